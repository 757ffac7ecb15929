/**
 * What goes into the stack's certificates: the names a client or peer dials, the lifetimes and the cert-manager
 * Certificate object. Pure, unit-tested without mocks; components/tls/index.ts creates the resources.
 */
import { CertManagerIssuer, TlsSettings } from "../../settings/tls";

const HOURS_PER_DAY = 24;

/** Every name a client inside the cluster can reach Service `service` by, shortest first. */
export function serviceDnsNames(service: string, namespace: string): string[] {
    return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

/** Names in first-seen order without repeats: a SAN list with duplicates is legal but reads as a mistake. */
export function uniqueNames(names: readonly string[]): string[] {
    return [...new Set(names)];
}

/** The tls provider's lifetime inputs for a leaf: replaced by the first `pulumi up` inside the renewal window. */
export function leafValidity(settings: TlsSettings): { validityPeriodHours: number; earlyRenewalHours: number } {
    return { validityPeriodHours: settings.validityDays * HOURS_PER_DAY, earlyRenewalHours: settings.renewBeforeDays * HOURS_PER_DAY };
}

/** The same for the per-stack CA (a new CA needs clients to trust it: see docs/security.md). */
export function caValidity(settings: TlsSettings): { validityPeriodHours: number; earlyRenewalHours: number } {
    return { validityPeriodHours: settings.caValidityDays * HOURS_PER_DAY, earlyRenewalHours: settings.renewBeforeDays * HOURS_PER_DAY };
}

/** Go duration text cert-manager reads (`2160h`). */
function hours(days: number): string {
    return `${days * HOURS_PER_DAY}h`;
}

export interface CertificateRequest {
    /** Name of the Secret the certificate and key land in (`tls.crt`, `tls.key`, `ca.crt`). */
    secretName: string;
    namespace: string;
    commonName: string;
    dnsNames: string[];
}

/** A cert-manager `Certificate` for `request`, signed by `issuer`, rotated with a new key each renewal. */
export function certManagerCertificate(request: CertificateRequest, issuer: CertManagerIssuer, settings: TlsSettings): Record<string, unknown> {
    return {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { name: request.secretName, namespace: request.namespace },
        spec: {
            secretName: request.secretName,
            commonName: request.commonName,
            dnsNames: uniqueNames(request.dnsNames),
            duration: hours(settings.validityDays),
            renewBefore: hours(settings.renewBeforeDays),
            privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
            usages: ["server auth", "digital signature", "key encipherment"],
            issuerRef: { group: "cert-manager.io", kind: issuer.kind, name: issuer.name },
        },
    };
}
