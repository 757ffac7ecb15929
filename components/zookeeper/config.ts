/**
 * Pure renderers of the ZooKeeper ensemble's files and names. The files are shipped in a ConfigMap; what
 * differs per pod (myid) is filled in by start.sh from the pod's name.
 */

/** Kubernetes' default cluster domain: pod and Service DNS names end in `svc.<domain>`. */
export const CLUSTER_DOMAIN = "cluster.local";

export const ZOOKEEPER_NAME = "zookeeper";
export const ZOOKEEPER_HEADLESS = "zookeeper-headless";

export const ZOOKEEPER_PORTS = { client: 2181, quorum: 2888, election: 3888, metrics: 7000 } as const;

/** Where the pod sees its volumes; start.sh and probe.sh read these through the container env. */
export const ZOOKEEPER_PATHS = {
    config: "/etc/zookeeper",
    scripts: "/opt/bss/zookeeper",
    runtime: "/opt/bss/runtime",
    data: "/var/lib/zookeeper",
    metricsLibs: "/opt/zookeeper-metrics",
    tmp: "/tmp",
} as const;

/** The stable DNS name of ensemble member `ordinal` (its headless Service record). */
export function memberHost(ordinal: number, namespace: string): string {
    return `${ZOOKEEPER_NAME}-${ordinal}.${ZOOKEEPER_HEADLESS}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/**
 * `host:port,...[/chroot]` naming every ensemble member by its pod DNS name, so clients survive the loss of
 * any member without a Service VIP in the path.
 */
export function zookeeperConnect(replicas: number, namespace: string, chroot = ""): string {
    const members = [...Array(replicas).keys()].map((i) => `${memberHost(i, namespace)}:${ZOOKEEPER_PORTS.client}`);
    return `${members.join(",")}${chroot}`;
}

export interface ZooCfgOptions {
    /** Ensemble size: one `server.N` line per member. */
    replicas: number;
    /** Namespace the members' DNS names live in. */
    namespace: string;
}

/** zoo.cfg shared by every member; `myid` (ordinal + 1) picks the member's own `server.N` line. */
export function renderZooCfg(options: ZooCfgOptions): string {
    const servers = [...Array(options.replicas).keys()].map(
        (i) => `server.${i + 1}=${memberHost(i, options.namespace)}:${ZOOKEEPER_PORTS.quorum}:${ZOOKEEPER_PORTS.election};${ZOOKEEPER_PORTS.client}`,
    );
    return [
        "# Rendered by components/zookeeper/config.ts. start.sh writes dataDir/myid from the pod ordinal.",
        "tickTime=2000",
        "initLimit=10",
        "syncLimit=5",
        `dataDir=${ZOOKEEPER_PATHS.data}/data`,
        `dataLogDir=${ZOOKEEPER_PATHS.data}/log`,
        `clientPort=${ZOOKEEPER_PORTS.client}`,
        "maxClientCnxns=60",
        // A pod's own DNS name may resolve to nothing while it restarts: bind the quorum ports on every address.
        "quorumListenOnAllIPs=true",
        // srvr for readiness (it answers "not currently serving" outside a quorum), ruok for liveness, mntr for operators.
        "4lw.commands.whitelist=srvr,ruok,mntr",
        // The Jetty AdminServer would open 8080 for commands the four-letter words already cover.
        "admin.enableServer=false",
        "autopurge.snapRetainCount=3",
        "autopurge.purgeInterval=24",
        "reconfigEnabled=false",
        ...servers,
        "",
    ].join("\n");
}

/**
 * Appended to zoo.cfg by start.sh when the metrics jars (copied by the init container from the ZooKeeper
 * release) are present: the apache/kafka image ships ZooKeeper without its Prometheus provider.
 */
export function renderMetricsCfg(): string {
    return [
        "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
        `metricsProvider.httpPort=${ZOOKEEPER_PORTS.metrics}`,
        "metricsProvider.exportJvmInfo=true",
        "",
    ].join("\n");
}

/**
 * log4j 1 (reload4j) config for the JVM processes of both ZooKeeper and Kafka: everything to stdout for the
 * kubelet's log collection, nothing written into the read-only image.
 */
export function renderLog4jProperties(quietLoggers: Record<string, string> = {}): string {
    return [
        "log4j.rootLogger=INFO, stdout",
        "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
        "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
        "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
        ...Object.entries(quietLoggers).map(([logger, level]) => `log4j.logger.${logger}=${level}`),
        "",
    ].join("\n");
}
