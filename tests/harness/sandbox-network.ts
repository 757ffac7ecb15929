/**
 * The sandbox's private network: one Linux bridge per sandbox (`bsssb<N>`, 10.244.<N>.0/24, .1 in the root
 * namespace so the test process reaches every pod), one network namespace per pod with a veth into the bridge.
 * Pod namespaces get no default route and the host does no forwarding, so nothing a pod sends leaves the machine.
 * Each live sandbox claims its index with a state file naming its owner process, so a crashed run's leftovers
 * can be told apart from another live test run and removed.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export const LINK_PREFIX = "bsssb";
const STATE_DIR = "/run/bss-pod-sandbox";
const LINK_NAME = new RegExp(`^${LINK_PREFIX}(\\d+)(?:v\\d+)?$`);
const NETNS_NAME = new RegExp(`^${LINK_PREFIX}(\\d+)-`);

function ip(...args: string[]): string {
    return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function ipIgnoringErrors(...args: string[]): void {
    try {
        ip(...args);
    } catch {
        // Already gone: teardown is idempotent.
    }
}

function linkNames(): string[] {
    return ip("-o", "link", "show").split("\n").map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1]).filter((n): n is string => !!n);
}

export function netnsNames(): string[] {
    return ip("netns", "list").split("\n").map((line) => line.split(" ")[0]).filter(Boolean);
}

/** Every process inside a network namespace (container processes, their children, `kubectl exec`s). */
export function netnsPids(netns: string): number[] {
    try {
        return ip("netns", "pids", netns).split("\n").filter(Boolean).map(Number);
    } catch {
        return [];
    }
}

export function killNetnsProcesses(netns: string): void {
    for (const pid of netnsPids(netns)) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            // Exited meanwhile.
        }
    }
}

function processStartTime(pid: number): string | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    } catch {
        return undefined;
    }
}

function statePath(index: number): string {
    return path.join(STATE_DIR, `${index}.json`);
}

function ownerAlive(index: number): boolean {
    try {
        const owner = JSON.parse(fs.readFileSync(statePath(index), "utf8")) as { pid: number; start: string };
        return processStartTime(owner.pid) === owner.start;
    } catch {
        return false;
    }
}

/** Removes every namespace and link of sandbox `index`, killing what still runs in its namespaces. */
export function teardownIndex(index: number): void {
    for (const netns of netnsNames().filter((n) => NETNS_NAME.exec(n)?.[1] === String(index))) {
        killNetnsProcesses(netns);
        ipIgnoringErrors("netns", "delete", netns);
    }
    for (const link of linkNames().filter((n) => LINK_NAME.exec(n)?.[1] === String(index))) {
        ipIgnoringErrors("link", "delete", link);
    }
    fs.rmSync(statePath(index), { force: true });
}

/** Tears down sandboxes whose owning process is gone (a crashed or killed earlier run); returns their indexes. */
export function removeStaleSandboxes(): number[] {
    const indexes = new Set<number>();
    for (const name of [...linkNames(), ...netnsNames()]) {
        const match = LINK_NAME.exec(name) ?? NETNS_NAME.exec(name);
        if (match) {
            indexes.add(Number(match[1]));
        }
    }
    if (fs.existsSync(STATE_DIR)) {
        for (const file of fs.readdirSync(STATE_DIR)) {
            const match = /^(\d+)\.json$/.exec(file);
            if (match) {
                indexes.add(Number(match[1]));
            }
        }
    }
    const stale = [...indexes].filter((index) => !ownerAlive(index));
    stale.forEach(teardownIndex);
    return stale;
}

function subnetInUse(index: number): boolean {
    const used = ip("-o", "-4", "addr", "show") + ip("-4", "route", "show", "table", "all");
    return used.includes(`10.244.${index}.`);
}

/** One sandbox's bridge, its address pool and the namespaces attached to it. */
export class SandboxNetwork {
    readonly bridge: string;
    readonly gateway: string;
    private nextHost = 2;
    private vethCounter = 0;
    private readonly inUse = new Set<string>();
    private readonly attached = new Map<string, string>();

    private constructor(readonly index: number) {
        this.bridge = `${LINK_PREFIX}${index}`;
        this.gateway = `10.244.${index}.1`;
    }

    /** Claims a free index (no live owner, no link, no route or address in its subnet) and brings its bridge up. */
    static create(): SandboxNetwork {
        removeStaleSandboxes();
        fs.mkdirSync(STATE_DIR, { recursive: true });
        const links = new Set(linkNames());
        for (let index = 1; index < 255; index++) {
            if (links.has(`${LINK_PREFIX}${index}`) || subnetInUse(index)) {
                continue;
            }
            try {
                fs.writeFileSync(statePath(index), JSON.stringify({ pid: process.pid, start: processStartTime(process.pid) }), { flag: "wx" });
            } catch {
                continue;
            }
            const network = new SandboxNetwork(index);
            try {
                ip("link", "add", "name", network.bridge, "type", "bridge", "stp_state", "0");
                ip("addr", "add", `${network.gateway}/24`, "dev", network.bridge);
                ip("link", "set", network.bridge, "up");
            } catch (error) {
                teardownIndex(index);
                throw error;
            }
            return network;
        }
        throw new Error("no free sandbox index: 10.244.1-254.0/24 all in use");
    }

    netnsName(pod: string): string {
        return `${this.bridge}-${pod}`;
    }

    /** The requested address, or the next never-used one of the pool (so a restarted pod comes back elsewhere). */
    allocateIp(requested?: string): string {
        if (requested) {
            if (!requested.startsWith(`10.244.${this.index}.`) || requested === this.gateway) {
                throw new Error(`requested pod IP ${requested} is not a pod address of this sandbox (10.244.${this.index}.2-254)`);
            }
            if (this.inUse.has(requested)) {
                throw new Error(`requested pod IP ${requested} is in use`);
            }
            this.inUse.add(requested);
            return requested;
        }
        for (let tries = 0; tries < 253; tries++) {
            const candidate = `10.244.${this.index}.${this.nextHost}`;
            this.nextHost = this.nextHost >= 254 ? 2 : this.nextHost + 1;
            if (!this.inUse.has(candidate)) {
                this.inUse.add(candidate);
                return candidate;
            }
        }
        throw new Error(`sandbox ${this.bridge} has no free pod address`);
    }

    releaseIp(address: string): void {
        this.inUse.delete(address);
    }

    /** Creates the namespace with `lo` up and `eth0` at `address` on the bridge; only the subnet route. */
    attach(netns: string, address: string): void {
        const veth = `${this.bridge}v${++this.vethCounter}`;
        ip("netns", "add", netns);
        this.attached.set(netns, veth);
        ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns);
        ip("link", "set", veth, "master", this.bridge, "up");
        ip("-n", netns, "addr", "add", `${address}/24`, "dev", "eth0");
        ip("-n", netns, "link", "set", "eth0", "up");
        ip("-n", netns, "link", "set", "lo", "up");
    }

    /** Kills whatever still runs in the namespace, then removes it and its veth. */
    detach(netns: string): void {
        killNetnsProcesses(netns);
        const veth = this.attached.get(netns);
        if (veth) {
            ipIgnoringErrors("link", "delete", veth);
        }
        ipIgnoringErrors("netns", "delete", netns);
        this.attached.delete(netns);
    }

    /** Synchronous so it can run from a process `exit` handler. */
    teardown(): void {
        for (const netns of [...this.attached.keys()]) {
            this.detach(netns);
        }
        teardownIndex(this.index);
    }
}
