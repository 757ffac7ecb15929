/** AKHQ check: its Micronaut health endpoint (management port, under the context path) says UP. */
import { isUnreachable, messageOf } from "./bounded";
import { httpGet } from "./http";
import { CheckResult } from "./report";

const CHECK = "health";

/** GET `<managementBase><healthPath>` within `timeoutMs`; UP is 200 with `"status":"UP"`. */
export async function checkAkhq(managementBase: string, healthPath: string, timeoutMs: number): Promise<CheckResult> {
    const url = `${managementBase.replace(/\/+$/, "")}${healthPath}`;
    try {
        const answer = await httpGet(url, { accept: "application/json" }, timeoutMs);
        let status: unknown;
        try {
            status = (JSON.parse(answer.body) as { status?: unknown }).status;
        } catch {
            status = undefined;
        }
        if (answer.status === 200 && status === "UP") {
            return { area: "akhq", check: CHECK, status: "ok", detail: `UP (${healthPath})` };
        }
        return { area: "akhq", check: CHECK, status: "fail", detail: `${healthPath} answered ${answer.status}${status === undefined ? " without a health status" : ` with status ${JSON.stringify(status)}`}` };
    } catch (error) {
        return { area: "akhq", check: CHECK, status: isUnreachable(error) ? "unreachable" : "fail", detail: `${healthPath}: ${messageOf(error)}` };
    }
}
