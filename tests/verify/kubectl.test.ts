/** How verify drives kubectl, against a stand-in executable (tests/verify/kubectl-stand-in.ts): no cluster here. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadBalancerAddress, podPlacement, portForward } from "../../scripts/verify/kubectl";
import { KubectlStandIn, writeKubectlStandIn } from "./kubectl-stand-in";

let kubectl: KubectlStandIn;

beforeAll(() => {
    kubectl = writeKubectlStandIn({
        pods: [{ name: "redis-cluster-0", ip: "10.244.1.2", node: "node-a" }, { name: "redis-cluster-1", ip: "10.244.2.2", node: "node-b" }],
        loadBalancers: { "kong-proxy": { hostname: "lb.example.net" } },
        forwards: { "service/redis-cluster": 41234 },
    });
});

afterAll(() => kubectl.remove());

const target = () => ({ command: kubectl.command, context: "kind-bss", namespace: "bss" });

describe("kubectl from verify", () => {
    it("maps pod IPs to pods and nodes, on the stack's context and namespace", async () => {
        expect(await podPlacement(target(), 5000)).toEqual(new Map([
            ["10.244.1.2", { pod: "redis-cluster-0", node: "node-a" }],
            ["10.244.2.2", { pod: "redis-cluster-1", node: "node-b" }],
        ]));
        expect(kubectl.calls()).toContainEqual(["--context", "kind-bss", "--namespace", "bss", "get", "pods", "--output", "json"]);
    });

    it("reads a load balancer's address, and rejects with kubectl's own error", async () => {
        expect(await loadBalancerAddress(target(), "kong-proxy", 5000)).toBe("lb.example.net");
        await expect(loadBalancerAddress(target(), "nope", 5000)).rejects.toThrow('exited 1: Error from server (NotFound): services "nope" not found');
    });

    it("opens a port-forward on the port kubectl reports, and closes it", async () => {
        const forward = await portForward({ ...target(), context: undefined }, "service/redis-cluster", 7000, 5000);
        expect([forward.host, forward.port]).toEqual(["127.0.0.1", 41234]);
        forward.close();
        expect(kubectl.calls()).toContainEqual(["--namespace", "bss", "port-forward", "--address", "127.0.0.1", "service/redis-cluster", "0:7000"]);
    });

    it("reports a forward that fails, and one that never reports a port, as unreachable", async () => {
        await expect(portForward(target(), "deployment/akhq", 28081, 5000)).rejects.toThrow("kubectl port-forward deployment/akhq exited 1: error: deployment/akhq not found");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-kubectl-silent-"));
        const silent = path.join(dir, "kubectl");
        fs.writeFileSync(silent, `#!${process.execPath}\nsetInterval(() => undefined, 1000);\n`, { mode: 0o755 });
        try {
            await expect(portForward({ command: silent, namespace: "bss" }, "deployment/akhq", 28081, 300)).rejects.toThrow("kubectl port-forward deployment/akhq reported no local port within 300 ms");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
        await expect(podPlacement({ command: "/nonexistent/kubectl", namespace: "bss" }, 1000)).rejects.toThrow("/nonexistent/kubectl not found");
    });
});
