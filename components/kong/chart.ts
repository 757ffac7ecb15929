/**
 * The arguments of the `helm.v4.Chart` that installs Kong, for each place the chart can come from. Pure:
 * the component passes in the namespace and the values.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { ChartSource } from "../../settings/kong";

/** The chart's pod labels and the Service names the README documents derive from this release name. */
export const KONG_RELEASE = "kong";

/** Where Helm finds the chart: `chart`, and `version`/`repositoryOpts` when the source needs them. */
export function chartLocation(source: ChartSource, version: string): Pick<k8s.helm.v4.ChartArgs, "chart" | "version" | "repositoryOpts"> {
    switch (source.kind) {
        case "repository":
            return { chart: "kong", version, repositoryOpts: { repo: source.repo } };
        case "oci":
            return { chart: source.reference, version };
        case "local":
            // Helm takes a local chart as it is; the settings already checked it is kong at this version.
            return { chart: source.path };
    }
}

export interface KongChartInputs {
    /** Where the chart comes from (`settings.kong.chart`); no default. */
    source: ChartSource;
    /** Exact chart version (`settings.kong.chartVersion`); no default. */
    version: string;
    /** Namespace of the release; no default. */
    namespace: pulumi.Input<string>;
    /** Chart values (`kongChartValues()`); no default. */
    values: pulumi.Input<Record<string, unknown>>;
}

export function kongChartArgs(inputs: KongChartInputs): k8s.helm.v4.ChartArgs {
    return {
        name: KONG_RELEASE,
        ...chartLocation(inputs.source, inputs.version),
        namespace: inputs.namespace,
        // The chart's crds/ folder holds the ingress controller's 12 cluster-wide CRDs. Nothing here uses them,
        // and installing them would take over (and on destroy delete) those of a controller already running.
        skipCrds: true,
        values: inputs.values,
    };
}
