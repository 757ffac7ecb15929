/** The kubectl the drains (`npm run kafka:drain`, `npm run redis:drain`) run, with the stack's context and namespace. */
import { spawn } from "child_process";

export interface Kubectl {
    (args: string[], input?: string): Promise<string>;
}

export interface KubectlOptions {
    /** The kubectl binary. */
    kubectl: string;
    kubeContext?: string;
    kubeconfig?: string;
}

/** Runs kubectl in `namespace`; resolves with its stdout, rejects with its stderr on a non-zero exit. */
export function kubectlRunner(options: KubectlOptions, namespace: string): Kubectl {
    const base = [
        ...(options.kubeconfig ? ["--kubeconfig", options.kubeconfig] : []),
        ...(options.kubeContext ? ["--context", options.kubeContext] : []),
        "--namespace", namespace,
    ];
    return (args, input) => new Promise((resolve, reject) => {
        const child = spawn(options.kubectl, [...base, ...args], { stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.stdin.on("error", () => undefined);
        child.on("error", (error: NodeJS.ErrnoException) => reject(new Error(error.code === "ENOENT" ? `${options.kubectl} not found` : error.message)));
        child.on("close", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`kubectl ${args.join(" ")} exited ${code}:\n${stderr.trim()}`))));
        child.stdin.end(input ?? "");
    });
}
