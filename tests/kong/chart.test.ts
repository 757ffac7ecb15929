import { chartLocation, kongChartArgs, KONG_RELEASE } from "../../components/kong/chart";
import { KONG_CHART_REPO } from "../../settings/kong";

const VALUES = { env: { database: "off" } };

describe("kongChartArgs", () => {
    it("installs release kong from the Kong charts repository by default, pinned to the version", () => {
        expect(kongChartArgs({ source: { kind: "repository", repo: KONG_CHART_REPO }, version: "3.4.1", namespace: "bss", values: VALUES })).toEqual({
            name: "kong",
            chart: "kong",
            version: "3.4.1",
            repositoryOpts: { repo: "https://charts.konghq.com" },
            namespace: "bss",
            skipCrds: true,
            values: VALUES,
        });
        expect(KONG_RELEASE).toBe("kong");
    });

    it.each([
        ["a repository mirror", { kind: "repository", repo: "https://charts.mirror.example.com/kong" } as const],
        ["an OCI registry", { kind: "oci", reference: "oci://registry.example.com/charts/kong" } as const],
        ["a local .tgz", { kind: "local", path: "./vendor/kong-3.4.1.tgz" } as const],
        ["a local directory", { kind: "local", path: "/opt/charts/kong" } as const],
    ])("never installs the chart's CRDs, whatever the source (%s)", (_, source) => {
        expect(kongChartArgs({ source, version: "3.4.1", namespace: "bss", values: VALUES })).toMatchObject({ name: "kong", namespace: "bss", skipCrds: true, values: VALUES });
    });
});

describe("chartLocation", () => {
    it("names chart kong in the given repository", () => {
        expect(chartLocation({ kind: "repository", repo: "https://charts.mirror.example.com/kong" }, "3.4.1"))
            .toEqual({ chart: "kong", version: "3.4.1", repositoryOpts: { repo: "https://charts.mirror.example.com/kong" } });
    });

    it("pulls an OCI reference at the pinned version, without a repository", () => {
        expect(chartLocation({ kind: "oci", reference: "oci://registry.example.com/charts/kong" }, "3.4.1"))
            .toEqual({ chart: "oci://registry.example.com/charts/kong", version: "3.4.1" });
    });

    it("hands a local chart's path over as written, with no repository or version to look up", () => {
        expect(chartLocation({ kind: "local", path: "./vendor/kong-3.4.1.tgz" }, "3.4.1")).toEqual({ chart: "./vendor/kong-3.4.1.tgz" });
        expect(chartLocation({ kind: "local", path: "/opt/charts/kong" }, "3.4.1")).toEqual({ chart: "/opt/charts/kong" });
    });
});
