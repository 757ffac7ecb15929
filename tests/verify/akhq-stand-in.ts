/**
 * A local HTTP responder that STANDS IN for AKHQ's management port, only to test the `verify` checker's logic
 * (AKHQ cannot run on this machine). It answers `<contextPath>/health` as Micronaut's health endpoint is
 * documented to: 200 `{"status":"UP"}`, 503 `{"status":"DOWN"}`; or accepts the connection and never answers.
 */
import * as http from "http";
import { AddressInfo } from "net";

export type AkhqHealth = "UP" | "DOWN" | "silent";

export interface AkhqStandIn {
    url: string;
    port: number;
    /** What the next health request gets. */
    health: AkhqHealth;
    paths: string[];
    close(): Promise<void>;
}

export async function startAkhqStandIn(contextPath: string, health: AkhqHealth = "UP"): Promise<AkhqStandIn> {
    const paths: string[] = [];
    const standIn = { health } as AkhqStandIn;
    const server = http.createServer((req, res) => {
        paths.push(req.url ?? "");
        if (req.url !== `${contextPath}/health`) {
            res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: "Page Not Found" }));
        } else if (standIn.health === "UP") {
            res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ name: "akhq", status: "UP" }));
        } else if (standIn.health === "DOWN") {
            res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ name: "akhq", status: "DOWN" }));
        }
        // "silent": the request is left open; close() ends it.
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return Object.assign(standIn, {
        url: `http://127.0.0.1:${port}`,
        port,
        paths,
        close: () => new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    });
}
