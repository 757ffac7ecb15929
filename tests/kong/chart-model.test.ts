import { chartListen, chartListenEnv } from "./chart-model";

describe("the model of the chart's listen helpers", () => {
    it("reproduces the Admin API listen helm template printed for chart 3.4.1 with the earlier values", () => {
        // FIELD-NOTES: chart 3.4.1 rendered with helm 3.22, Admin API with a Service and both listens on.
        const earlier = { enabled: true, type: "ClusterIP", http: { enabled: true, containerPort: 8001 }, tls: { enabled: true, containerPort: 8444 } };
        expect(chartListenEnv({ admin: earlier, proxy: {}, status: {} }).KONG_ADMIN_LISTEN)
            .toBe("0.0.0.0:8001, [::]:8001, 0.0.0.0:8444 http2 ssl, [::]:8444 http2 ssl");
    });

    it("puts an Admin API without a Service and without addresses on loopback, as the chart's env helper does", () => {
        const admin = { enabled: false, http: { enabled: true, containerPort: 8001 }, tls: { enabled: false } };
        expect(chartListenEnv({ admin, proxy: {}, status: {} }).KONG_ADMIN_LISTEN).toBe("127.0.0.1:8001, [::1]:8001");
    });

    it("prefers explicit addresses, deduplicates parameters, ends TLS listens in ssl and says off when nothing listens", () => {
        expect(chartListen({ addresses: ["10.0.0.1"], http: { enabled: true, containerPort: 80, parameters: ["reuseport", "reuseport"] }, tls: { enabled: true, containerPort: 443, parameters: ["ssl"] } }))
            .toBe("10.0.0.1:80 reuseport, 10.0.0.1:443 ssl");
        expect(chartListen({ http: { enabled: false }, tls: { enabled: false } })).toBe("off");
    });
});
