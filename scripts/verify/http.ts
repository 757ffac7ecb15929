/** One bounded HTTP request, keeping what the checks read: status, headers and the start of the body. */
import * as http from "http";
import * as https from "https";
import { UnreachableError } from "./bounded";

export interface HttpAnswer {
    status: number;
    /** Header names in lower case, as Node gives them. */
    headers: http.IncomingHttpHeaders;
    /** At most the first 64 KiB. */
    body: string;
}

const BODY_LIMIT = 64 * 1024;

/** GET `url` with `headers`; rejects with an UnreachableError when nothing answers within `timeoutMs`. */
export function httpGet(url: string, headers: Record<string, string>, timeoutMs: number): Promise<HttpAnswer> {
    const target = new URL(url);
    const client = target.protocol === "https:" ? https : http;
    return new Promise<HttpAnswer>((resolve, reject) => {
        const request = client.request(target, { method: "GET", headers: { ...headers, connection: "close" }, timeout: timeoutMs }, (response) => {
            const chunks: Buffer[] = [];
            let size = 0;
            response.on("data", (chunk: Buffer) => {
                if (size < BODY_LIMIT) {
                    chunks.push(chunk);
                    size += chunk.length;
                }
            });
            response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString("utf8").slice(0, BODY_LIMIT) }));
            response.on("error", reject);
        });
        const timer = setTimeout(() => request.destroy(new UnreachableError(`no answer from ${target.origin} within ${timeoutMs} ms`)), timeoutMs);
        request.on("timeout", () => request.destroy(new UnreachableError(`no answer from ${target.origin} within ${timeoutMs} ms`)));
        request.on("error", reject);
        request.on("close", () => clearTimeout(timer));
        request.end();
    });
}
