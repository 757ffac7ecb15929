/**
 * A real Prometheus 3.16.0 on the host (scripts/monitoring/build-prometheus.sh) with a stack's rendered scrape config
 * and rules file: Kubernetes pod discovery through the test cluster's API server, only the intervals shortened and
 * only the jobs asked for (the exporters and ZooKeeper's metrics provider do not run on the test cluster).
 *
 *     const prometheus = await startPrometheus(rendered, cluster.kubeconfig, [JOBS.kafka], "127.0.0.1:19190");
 *     await prometheus.query('up{job="kafka"}');
 *     await prometheus.stop();
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { RULES_FILE, SCRAPE_FILE } from "../../components/monitoring/objects";
import { object, RenderedStack } from "../helpers/render";
import { prometheusTool } from "./prometheus-tools";

export interface Sample {
    metric: Record<string, string>;
    value: [number, string];
}

export interface RunningPrometheus {
    /** An instant query; throws on anything but success. */
    query(promql: string): Promise<Sample[]>;
    /** Names of the alerts matching `alertname` (a regex) in `state` (`firing`, `pending`), sorted. */
    alerts(state: "firing" | "pending", alertname?: string): Promise<string[]>;
    /** Its output so far, for failure messages. */
    log(): string;
    stop(): Promise<void>;
}

export async function startPrometheus(rendered: RenderedStack, kubeconfig: string, jobs: string[], listen: string): Promise<RunningPrometheus> {
    const binary = prometheusTool("prometheus");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-prometheus-"));
    fs.writeFileSync(path.join(dir, "rules.yaml"), object(rendered, "ConfigMap", "bss-alert-rules").data[RULES_FILE]);
    const scrape = yaml.load(object(rendered, "ConfigMap", "bss-prometheus-scrape").data[SCRAPE_FILE]) as { scrape_configs: any[] };
    const missing = jobs.filter((job) => !scrape.scrape_configs.some((c) => c.job_name === job));
    if (missing.length > 0) {
        throw new Error(`the rendered scrape config has no job ${missing.join(", ")}`);
    }
    const configs = scrape.scrape_configs.filter((c) => jobs.includes(c.job_name)).map((c) => ({
        ...c,
        scrape_interval: "5s",
        scrape_timeout: "4s",
        kubernetes_sd_configs: c.kubernetes_sd_configs.map((sd: any) => ({ ...sd, kubeconfig_file: kubeconfig })),
    }));
    fs.writeFileSync(path.join(dir, "prometheus.yml"), yaml.dump({
        global: { scrape_interval: "5s", evaluation_interval: "5s" },
        rule_files: [path.join(dir, "rules.yaml")],
        scrape_configs: configs,
    }));
    let output = "";
    const child = spawn(binary, [`--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=${listen}`],
        { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (d) => { output = (output + d).slice(-20_000); });
    child.stderr!.on("data", (d) => { output = (output + d).slice(-20_000); });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

    const query = async (promql: string): Promise<Sample[]> => {
        const response = await fetch(`http://${listen}/api/v1/query?query=${encodeURIComponent(promql)}`);
        const body = await response.json() as any;
        if (body.status !== "success") {
            throw new Error(`query ${promql}: ${JSON.stringify(body)}`);
        }
        return body.data.result;
    };
    return {
        query,
        alerts: async (state, alertname = ".*") => (await query(`ALERTS{alertstate="${state}", alertname=~"${alertname}"}`)).map((r) => r.metric.alertname).sort(),
        log: () => output,
        stop: async () => {
            if (child.exitCode === null && child.signalCode === null) {
                child.kill("SIGTERM");
                await exited;
            }
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
