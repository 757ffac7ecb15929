/**
 * A peer that accepts a connection and never answers (a half-dead broker, a stuck proxy) must cost the bound,
 * then be reported unreachable: each checker against such a silent local server.
 */
import * as net from "net";
import { AddressInfo } from "net";
import { brokerView } from "../../scripts/verify/kafka-metadata";
import { observeKafka } from "../../scripts/verify/kafka";
import { observeRedis } from "../../scripts/verify/redis";
import { httpGet } from "../../scripts/verify/http";
import { isUnreachable } from "../../scripts/verify/bounded";

let server: net.Server;
let address: string;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
    server = net.createServer((socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => server.close(resolve));
});

describe("a silent peer", () => {
    it("Kafka metadata: unreachable, naming the address and the bound", async () => {
        const error = await brokerView(address, 400).catch((e) => e);
        expect(isUnreachable(error)).toBe(true);
        expect(error.message).toBe(`no answer from Kafka at ${address} within 400 ms`);
    });

    it("Kafka observation: every address reported, nothing else attempted", async () => {
        const observed = await observeKafka([address], ["bss.events"], 400);
        expect(observed.views).toEqual([{ address, error: `no answer from Kafka at ${address} within 400 ms`, unreachable: true }]);
        expect(observed.topics).toEqual({ error: "no broker answered", unreachable: true });
    });

    it("Redis: unreachable", async () => {
        const [host, port] = address.split(":");
        const observed = await observeRedis(host, Number(port), "password-0123456789", 400, new Map());
        expect(observed.error).toMatchObject({ unreachable: true });
    });

    it("HTTP: unreachable, naming the origin and the bound", async () => {
        const error = await httpGet(`http://${address}/akhq/health`, {}, 400).catch((e) => e);
        expect(isUnreachable(error)).toBe(true);
        expect(error.message).toBe(`no answer from http://${address} within 400 ms`);
    });
});
