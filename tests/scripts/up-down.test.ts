import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "../helpers/render";

/**
 * `npm run up` / `npm run down` against recording stand-ins for kind, kubectl and pulumi: the real tools
 * need a Docker engine and a cluster, but the order of calls and the environment they get are ours.
 */
let bin: string;
let work: string;
let calls: string;

function tool(name: string, body = ""): void {
    fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\necho "${name} $* [passphrase=\${PULUMI_CONFIG_PASSPHRASE-unset}]" >> "${calls}"\n${body}\n`, { mode: 0o755 });
}

/** The repository's scripts run from a copy, so the test can check the state folder they create. */
function run(script: string, args: string[], env: Record<string, string> = {}): { code: number | null; log: string[]; stderr: string } {
    const result = spawnSync("bash", [path.join(work, "scripts", script), ...args], {
        encoding: "utf8",
        env: { PATH: `${bin}:/usr/bin:/bin`, HOME: work, ...env },
        input: "",
    });
    const log = fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n") : [];
    return { code: result.status, log, stderr: result.stderr };
}

beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "bss-up-"));
    bin = path.join(work, "bin");
    calls = path.join(work, "calls.log");
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(work, "scripts"));
    for (const script of ["up.sh", "down.sh", "preview.sh", "prepare-stack.sh"]) {
        fs.copyFileSync(path.join(ROOT, "scripts", script), path.join(work, "scripts", script));
    }
    fs.mkdirSync(path.join(work, "kind"));
    fs.copyFileSync(path.join(ROOT, "kind", "cluster.yaml"), path.join(work, "kind", "cluster.yaml"));
    tool("kubectl");
});

afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
});

describe("up", () => {
    it("creates the kind cluster, the state folder and the dev stack, then runs pulumi up", () => {
        tool("kind"); // lists no cluster
        tool("pulumi", "[ \"$2\" = select ] && exit 1; exit 0");
        const result = run("up.sh", ["--yes"]);
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        expect(result.log).toEqual([
            "kind get clusters [passphrase=bss-dev-passphrase]",
            "kind create cluster --config kind/cluster.yaml [passphrase=bss-dev-passphrase]",
            "kubectl config use-context kind-bss [passphrase=bss-dev-passphrase]",
            "pulumi stack select dev [passphrase=bss-dev-passphrase]",
            "pulumi stack init dev [passphrase=bss-dev-passphrase]",
            "pulumi up --stack dev --yes [passphrase=bss-dev-passphrase]",
        ]);
        expect(fs.statSync(path.join(work, ".pulumi-state")).isDirectory()).toBe(true);
    });

    it("reuses an existing cluster and stack and keeps the caller's passphrase", () => {
        tool("kind", "[ \"$1\" = get ] && echo bss; exit 0");
        tool("pulumi");
        const result = run("up.sh", [], { PULUMI_CONFIG_PASSPHRASE: "mine" });
        expect(result.code).toBe(0);
        expect(result.log).toEqual([
            "kind get clusters [passphrase=mine]",
            "kubectl config use-context kind-bss [passphrase=mine]",
            "pulumi stack select dev [passphrase=mine]",
            "pulumi up --stack dev [passphrase=mine]",
        ]);
    });

    it("says which tool is missing", () => {
        tool("kind");
        const result = run("up.sh", []);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain("up: 'pulumi' is not installed");
        expect(result.log).toEqual([]);
    });
});

describe("preview", () => {
    it("on a fresh laptop creates the kind cluster first (helm.v4.Chart renders against it), then previews the dev stack", () => {
        tool("kind"); // lists no cluster
        tool("pulumi", "[ \"$2\" = select ] && exit 1; exit 0");
        const result = run("preview.sh", ["--diff"]);
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        expect(result.log).toEqual([
            "kind get clusters [passphrase=bss-dev-passphrase]",
            "kind create cluster --config kind/cluster.yaml [passphrase=bss-dev-passphrase]",
            "kubectl config use-context kind-bss [passphrase=bss-dev-passphrase]",
            "pulumi stack select dev [passphrase=bss-dev-passphrase]",
            "pulumi stack init dev [passphrase=bss-dev-passphrase]",
            "pulumi preview --stack dev --diff [passphrase=bss-dev-passphrase]",
        ]);
    });

    it("reuses an existing cluster and leaves other stacks on the current context", () => {
        tool("kind", "[ \"$1\" = get ] && echo bss; exit 0");
        tool("pulumi");
        expect(run("preview.sh", []).log).toEqual([
            "kind get clusters [passphrase=bss-dev-passphrase]",
            "kubectl config use-context kind-bss [passphrase=bss-dev-passphrase]",
            "pulumi stack select dev [passphrase=bss-dev-passphrase]",
            "pulumi preview --stack dev [passphrase=bss-dev-passphrase]",
        ]);
        fs.writeFileSync(calls, "");
        expect(run("preview.sh", [], { BSS_STACK: "prod" }).log).toEqual([
            "pulumi stack select prod [passphrase=bss-dev-passphrase]",
            "pulumi preview --stack prod [passphrase=bss-dev-passphrase]",
        ]);
    });

    it("says which tool is missing", () => {
        tool("kind");
        const result = run("preview.sh", []);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain("preview: 'pulumi' is not installed");
        expect(result.log).toEqual([]);
    });
});

describe("down", () => {
    it("destroys the stack and deletes the cluster when asked to", () => {
        tool("kind", "[ \"$1\" = get ] && echo bss; exit 0");
        tool("pulumi");
        const result = run("down.sh", ["--delete-cluster", "--yes"]);
        expect(result.code).toBe(0);
        expect(result.log).toEqual([
            "pulumi state unprotect --all --yes --stack dev [passphrase=bss-dev-passphrase]",
            "pulumi destroy --stack dev --yes [passphrase=bss-dev-passphrase]",
            "kind get clusters [passphrase=bss-dev-passphrase]",
            "kind delete cluster --name bss [passphrase=bss-dev-passphrase]",
        ]);
    });

    it("leaves the protection of other stacks' resources alone", () => {
        tool("kind");
        tool("pulumi");
        const result = run("down.sh", [], { BSS_STACK: "prod" });
        expect(result.code).toBe(0);
        expect(result.log).toEqual(["pulumi destroy --stack prod [passphrase=bss-dev-passphrase]"]);
    });

    it("keeps the cluster when not asked (no terminal to ask on)", () => {
        tool("kind", "[ \"$1\" = get ] && echo bss; exit 0");
        tool("pulumi");
        const result = run("down.sh", []);
        expect(result.code).toBe(0);
        expect(result.log.some((line) => line.startsWith("kind delete"))).toBe(false);
    });
});
