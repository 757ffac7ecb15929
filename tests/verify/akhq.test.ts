/** The AKHQ checker's logic against a local stand-in for AKHQ's management port (tests/verify/akhq-stand-in.ts). */
import { checkAkhq } from "../../scripts/verify/akhq";
import { AkhqStandIn, startAkhqStandIn } from "./akhq-stand-in";

let standIn: AkhqStandIn;

beforeEach(async () => {
    standIn = await startAkhqStandIn("/akhq");
});

afterEach(() => standIn.close());

describe("AKHQ health check (against a stand-in)", () => {
    it("passes when the health endpoint under the context path says UP", async () => {
        expect(await checkAkhq(standIn.url, "/akhq/health", 3000)).toEqual({ area: "akhq", check: "health", status: "ok", detail: "UP (/akhq/health)" });
        expect(standIn.paths).toEqual(["/akhq/health"]);
    });

    it("fails on DOWN, and on a path that is not the health endpoint", async () => {
        standIn.health = "DOWN";
        expect(await checkAkhq(standIn.url, "/akhq/health", 3000)).toMatchObject({ status: "fail", detail: '/akhq/health answered 503 with status "DOWN"' });
        standIn.health = "UP";
        expect(await checkAkhq(standIn.url, "/health", 3000)).toMatchObject({ status: "fail", detail: "/health answered 404 without a health status" });
    });

    it("reports unreachable, within the bound, when the port accepts and never answers", async () => {
        standIn.health = "silent";
        expect(await checkAkhq(standIn.url, "/akhq/health", 500)).toMatchObject({ status: "unreachable", detail: `/akhq/health: no answer from ${standIn.url} within 500 ms` });
    });

    it("reports unreachable when nothing listens", async () => {
        await standIn.close();
        expect(await checkAkhq(standIn.url, "/akhq/health", 1000)).toMatchObject({ status: "unreachable", detail: expect.stringContaining("ECONNREFUSED") });
        standIn = await startAkhqStandIn("/akhq");
    });
});
