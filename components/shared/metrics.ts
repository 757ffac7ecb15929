/** The annotations Prometheus' Kubernetes pod discovery (the common `prometheus.io/*` convention) scrapes by. */
export function scrapeAnnotations(port: number, path = "/metrics"): Record<string, string> {
    return {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": String(port),
        "prometheus.io/path": path,
    };
}
