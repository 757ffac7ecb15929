import * as fs from "fs";
import * as path from "path";

/**
 * The text of a file shipped beside a component (a start script, a probe), read at deploy time so the
 * ConfigMap carries exactly the file that tests execute and shellcheck reads.
 */
export function shippedFile(componentDir: string, name: string): string {
    return fs.readFileSync(path.join(componentDir, name), "utf8");
}

/** ConfigMap volume mode for scripts: the container runs them directly. Written in octal, read by the API as a number. */
export const EXECUTABLE_MODE = 0o755;
/** Mode for files only the owner group should read (Secrets). */
export const PRIVATE_MODE = 0o440;
