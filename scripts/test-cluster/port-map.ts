/**
 * kind's `extraPortMappings` for the test cluster: for each mapping in kind/cluster.yaml, listens on
 * `listenAddress:hostPort` and forwards every connection to `<node address>:containerPort` (where kube-proxy
 * serves the NodePort), as kind's container port publishing does. Runs until SIGTERM.
 *
 *     port-map.ts kind/cluster.yaml 10.244.0.1
 */
import * as fs from "fs";
import * as net from "net";
import * as yaml from "js-yaml";

interface PortMapping {
    containerPort: number;
    hostPort: number;
    listenAddress?: string;
    protocol?: string;
}

export function portMappings(kindConfig: string): PortMapping[] {
    const config = yaml.load(kindConfig) as { nodes?: { extraPortMappings?: PortMapping[] }[] };
    return (config.nodes ?? []).flatMap((node) => node.extraPortMappings ?? []).filter((m) => (m.protocol ?? "TCP").toUpperCase() === "TCP");
}

function forward(mapping: PortMapping, nodeAddress: string): net.Server {
    const server = net.createServer((client) => {
        const upstream = net.connect(mapping.containerPort, nodeAddress);
        client.pipe(upstream).pipe(client);
        const close = () => {
            client.destroy();
            upstream.destroy();
        };
        client.on("error", close);
        upstream.on("error", close);
        client.on("close", close);
        upstream.on("close", close);
    });
    // kind's default listen address is every interface; the project's config asks for the loopback.
    server.listen(mapping.hostPort, mapping.listenAddress ?? "127.0.0.1");
    server.on("listening", () => console.log(`port-map: ${mapping.listenAddress ?? "127.0.0.1"}:${mapping.hostPort} -> ${nodeAddress}:${mapping.containerPort}`));
    server.on("error", (error) => {
        console.error(`port-map: ${mapping.hostPort}: ${error.message}`);
        process.exit(1);
    });
    return server;
}

if (require.main === module) {
    const [configFile, nodeAddress] = process.argv.slice(2);
    if (!configFile || !nodeAddress) {
        console.error("usage: port-map.ts <kind cluster.yaml> <node address>");
        process.exit(2);
    }
    const servers = portMappings(fs.readFileSync(configFile, "utf8")).map((m) => forward(m, nodeAddress));
    process.on("SIGTERM", () => {
        servers.forEach((s) => s.close());
        process.exit(0);
    });
}
