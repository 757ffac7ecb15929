/** The promtool and prometheus binaries scripts/monitoring/build-prometheus.sh builds (CI builds them before the tests). */
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../helpers/render";

export const MONITORING_BIN = path.join(ROOT, ".cache", "monitoring", "bin");

/** Path of a built tool; throws (never skips) when it is missing, naming the script that builds it. */
export function prometheusTool(name: "promtool" | "prometheus"): string {
    const file = path.join(MONITORING_BIN, name);
    if (!fs.existsSync(file)) {
        throw new Error(`${file} is missing: run bash scripts/monitoring/build-prometheus.sh (CI's .ci/run does)`);
    }
    return file;
}
