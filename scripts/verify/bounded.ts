/** Every network step of `verify` runs under a deadline, so a silent peer costs seconds, never a hang. */

/** A step got no answer in time (or could not connect): the row says unreachable, not failed. */
export class UnreachableError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UnreachableError";
    }
}

/**
 * Settles with `work`, or rejects with an UnreachableError naming `what` after `ms`. The work is not cancelled:
 * callers close their clients in `finally`, and the CLI exits once the report is printed.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new UnreachableError(`no answer from ${what} within ${ms} ms`)), ms);
    });
    return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** Socket-level failures (refused, reset, unknown host, timed out) mean "could not reach", not "wrong". */
export function isUnreachable(error: unknown): boolean {
    if (error instanceof UnreachableError) {
        return true;
    }
    const codes = ["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EPIPE", "ECONNABORTED"];
    for (let e = error as { code?: string; cause?: unknown; name?: string; message?: string } | undefined; e; e = e.cause as typeof e) {
        if ((e.code && codes.includes(e.code)) || e.name === "KafkaJSConnectionError" || e.name === "KafkaJSNumberOfRetriesExceeded"
            || e.name === "KafkaJSRequestTimeoutError" || /Connection is closed|connect ETIMEDOUT|Connection timeout/i.test(e.message ?? "")) {
            return true;
        }
    }
    return false;
}

export function messageOf(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}
