import { integer, object, oneOf, Problems, shown, string } from "./fields";
import { SettingsContext } from "./common";

/**
 * Where the stack's server certificates come from (`bss:tls.source`): none, a per-stack CA kept in the Pulumi state,
 * or cert-manager with an issuer that already exists in the cluster.
 */
export type TlsSource = "off" | "self-signed" | "cert-manager";

/** A cert-manager issuer the Certificate objects name (`bss:tls.issuer`, written `Kind/name`). */
export interface CertManagerIssuer {
    kind: "Issuer" | "ClusterIssuer";
    name: string;
}

export interface TlsSettings {
    /** Default: `off` in dev (Kong serves its built-in certificate), `self-signed` otherwise. */
    source: TlsSource;
    /** Required with `cert-manager`, refused with any other source. No default. */
    issuer?: CertManagerIssuer;
    /** Lifetime of each leaf certificate, in days. Default 90. */
    validityDays: number;
    /**
     * Days before a leaf's expiry from which the next `pulumi up` replaces it (self-signed) or cert-manager renews it.
     * Default 30; must be below `validityDays`.
     */
    renewBeforeDays: number;
    /** Lifetime of the per-stack CA (`self-signed` only), in days. Default 3650. */
    caValidityDays: number;
}

interface TlsInput {
    source: TlsSource;
    issuer: string;
    validityDays: number;
    renewBeforeDays: number;
    caValidityDays: number;
}

const ISSUER = /^(Issuer|ClusterIssuer)\/[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

const reader = object<TlsInput>({
    source: oneOf<TlsSource>("off", "self-signed", "cert-manager"),
    issuer: string(ISSUER, "\"Issuer/<name>\" or \"ClusterIssuer/<name>\""),
    validityDays: integer(1, 825),
    renewBeforeDays: integer(1, 824),
    caValidityDays: integer(30, 36500),
});

export function readTls(raw: unknown, ctx: SettingsContext, problems: Problems): TlsSettings {
    const given = reader("bss:tls", raw, problems) ?? {};
    const source = given.source ?? (ctx.environment === "dev" ? "off" : "self-signed");
    const validityDays = given.validityDays ?? 90;
    const renewBeforeDays = given.renewBeforeDays ?? 30;
    if (source === "cert-manager" && given.issuer === undefined) {
        problems.push(`bss:tls.issuer must name the cert-manager issuer ("Issuer/<name>" or "ClusterIssuer/<name>") when bss:tls.source is "cert-manager", got nothing`);
    }
    if (source !== "cert-manager" && given.issuer !== undefined) {
        problems.push(`bss:tls.issuer is used only with bss:tls.source "cert-manager" (the source is ${shown(source)}), got ${shown(given.issuer)}`);
    }
    if (source !== "self-signed" && given.caValidityDays !== undefined) {
        problems.push(`bss:tls.caValidityDays is used only with bss:tls.source "self-signed" (the source is ${shown(source)}), got ${shown(given.caValidityDays)}`);
    }
    if (renewBeforeDays >= validityDays) {
        problems.push(`bss:tls.renewBeforeDays must be below bss:tls.validityDays (${validityDays}), got ${shown(renewBeforeDays)}`);
    }
    const [kind, name] = given.issuer?.split("/") ?? [];
    return {
        source,
        issuer: given.issuer !== undefined ? { kind: kind as CertManagerIssuer["kind"], name } : undefined,
        validityDays,
        renewBeforeDays,
        caValidityDays: given.caValidityDays ?? 3650,
    };
}
