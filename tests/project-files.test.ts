import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { ROOT } from "./helpers/render";
import { loadSettings } from "../settings";

/** Every shell script of the repository: those shipped into pods and those users run. shellcheck: `npm run lint`. */
function shellScripts(): string[] {
    const found: string[] = [path.join(ROOT, ".ci", "run")];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory() && !["node_modules", ".git", ".cache", "out", ".pulumi-state"].includes(entry.name)) {
                walk(full);
            } else if (entry.isFile() && entry.name.endsWith(".sh")) {
                found.push(full);
            }
        }
    };
    walk(ROOT);
    return found;
}

describe.each(shellScripts().map((f) => [path.relative(ROOT, f), f]))("%s", (_name, file) => {
    it("parses with bash -n", () => {
        const result = spawnSync("bash", ["-n", file], { encoding: "utf8" });
        expect(result.stderr).toBe("");
        expect(result.status).toBe(0);
    });
});

describe("Pulumi.yaml", () => {
    const project = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as Record<string, any>;

    it("declares the same defaults the settings module applies", () => {
        const defaults = loadSettings({}, "check");
        expect(project.config.namespace.default).toBe(defaults.namespace);
        expect(project.config.environment.default).toBe(defaults.environment);
    });

    it("keeps state in the gitignored project folder", () => {
        expect(project.backend.url).toBe("file://./.pulumi-state");
        expect(fs.readFileSync(path.join(ROOT, ".gitignore"), "utf8").split("\n")).toContain(".pulumi-state/");
    });
});
