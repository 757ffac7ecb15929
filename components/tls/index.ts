import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { TlsSettings } from "../../settings/tls";
import { labels } from "../shared/labels";
import { sha256Hex } from "../shared/checksum";
import { caValidity, certManagerCertificate, CertificateRequest, leafValidity, uniqueNames } from "./names";

export interface CertificateAuthorityArgs {
    /** The stack's TLS settings (`settings.tls`); its source must be `self-signed`. No default. */
    settings: TlsSettings;
    /** Subject common name of the CA; no default. */
    commonName: string;
}

/**
 * The per-stack CA of `bss:tls.source: self-signed`: an ECDSA P-256 key and a self-signed CA certificate, both kept
 * in the Pulumi state (the key as a secret). Clients trust `certPem` (the `tlsCaCertificate` stack output).
 */
export class CertificateAuthority extends pulumi.ComponentResource {
    /** The CA certificate, PEM (public). */
    readonly certPem: pulumi.Output<string>;
    /** The CA's private key, PEM (secret). */
    readonly privateKeyPem: pulumi.Output<string>;

    constructor(name: string, args: CertificateAuthorityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bss:tls:CertificateAuthority", name, {}, opts);
        const key = new tls.PrivateKey(`${name}-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
        const cert = new tls.SelfSignedCert(`${name}-cert`, {
            privateKeyPem: key.privateKeyPem,
            subject: { commonName: args.commonName, organization: "bss" },
            isCaCertificate: true,
            setSubjectKeyId: true,
            allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
            ...caValidity(args.settings),
        }, { parent: this });
        this.certPem = cert.certPem;
        this.privateKeyPem = pulumi.secret(key.privateKeyPem);
        this.registerOutputs({ certPem: this.certPem });
    }
}

export interface ServerCertificateArgs {
    /** The stack's TLS settings (`settings.tls`); its source must not be `off`. No default. */
    settings: TlsSettings;
    /** The per-stack CA; required with `self-signed`, unused with `cert-manager`. No default. */
    authority?: CertificateAuthority;
    /** Secret name, namespace, subject and DNS names of the certificate; no default. */
    request: CertificateRequest;
}

/**
 * A server certificate in a `kubernetes.io/tls` Secret (`tls.crt` with the chain, `tls.key`, `ca.crt`): signed by
 * the per-stack CA in the Pulumi state, or requested from cert-manager as a `Certificate` whose Secret cert-manager
 * writes and renews.
 */
export class ServerCertificate extends pulumi.ComponentResource {
    /** Name of the Secret holding the certificate. */
    readonly secretName: pulumi.Output<string>;
    /**
     * Changes whenever the pods serving the certificate must restart to load a new one: the certificate's digest
     * (self-signed), or the Certificate's spec (cert-manager, whose own renewals the pods pick up at their next roll).
     */
    readonly rollChecksum: pulumi.Output<string>;

    constructor(name: string, args: ServerCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bss:tls:ServerCertificate", name, {}, opts);
        const { request, settings } = args;
        if (settings.source === "cert-manager") {
            const spec = certManagerCertificate(request, settings.issuer!, settings);
            const certificate = new k8s.apiextensions.CustomResource(name, spec as k8s.apiextensions.CustomResourceArgs, { parent: this });
            this.secretName = certificate.metadata.name;
            this.rollChecksum = pulumi.output(sha256Hex(JSON.stringify(spec.spec)));
        } else {
            if (args.authority === undefined || settings.source !== "self-signed") {
                throw new Error(`ServerCertificate ${name}: bss:tls.source ${settings.source} issues no certificate`);
            }
            const key = new tls.PrivateKey(`${name}-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
            const csr = new tls.CertRequest(`${name}-csr`, {
                privateKeyPem: key.privateKeyPem,
                subject: { commonName: request.commonName, organization: "bss" },
                dnsNames: uniqueNames(request.dnsNames),
            }, { parent: this });
            const cert = new tls.LocallySignedCert(`${name}-cert`, {
                certRequestPem: csr.certRequestPem,
                caPrivateKeyPem: args.authority.privateKeyPem,
                caCertPem: args.authority.certPem,
                allowedUses: ["server_auth", "digital_signature", "key_encipherment"],
                ...leafValidity(settings),
            }, { parent: this });
            const secret = new k8s.core.v1.Secret(name, {
                metadata: { name: request.secretName, namespace: request.namespace, labels: labels("tls") },
                type: "kubernetes.io/tls",
                stringData: {
                    "tls.crt": pulumi.interpolate`${cert.certPem}${args.authority.certPem}`,
                    "tls.key": pulumi.secret(key.privateKeyPem),
                    "ca.crt": args.authority.certPem,
                },
            }, { parent: this });
            this.secretName = secret.metadata.name;
            this.rollChecksum = cert.certPem.apply(sha256Hex);
        }
        this.registerOutputs({ secretName: this.secretName, rollChecksum: this.rollChecksum });
    }
}
