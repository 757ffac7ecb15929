/**
 * npm run bench:check [-- FILE]
 * Checks the shape of a written report (default bench/report.json): exit 1 listing every problem. CI runs it after
 * `npm run bench -- --quick`; it checks keys and types, never the figures.
 */
import * as fs from "fs";
import * as path from "path";
import { reportProblems } from "./reporting";

const file = path.resolve(process.argv[2] ?? path.join(__dirname, "report.json"));
let problems: string[];
try {
    problems = reportProblems(JSON.parse(fs.readFileSync(file, "utf8")));
} catch (err) {
    problems = [`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`];
}
if (problems.length > 0) {
    console.error(`bench:check: ${file} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    process.exit(1);
}
console.log(`bench:check: ${path.relative(process.cwd(), file) || file} has the report's shape`);
