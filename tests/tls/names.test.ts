import { caValidity, certManagerCertificate, leafValidity, serviceDnsNames, uniqueNames } from "../../components/tls/names";
import { TlsSettings } from "../../settings/tls";

const settings: TlsSettings = { source: "cert-manager", issuer: { kind: "Issuer", name: "bss-ca" }, validityDays: 90, renewBeforeDays: 30, caValidityDays: 3650 };

it("names a Service the four ways a pod can dial it", () => {
    expect(serviceDnsNames("kong-proxy", "bss")).toEqual(["kong-proxy", "kong-proxy.bss", "kong-proxy.bss.svc", "kong-proxy.bss.svc.cluster.local"]);
});

it("keeps the first of repeated names", () => {
    expect(uniqueNames(["a.example", "b", "a.example"])).toEqual(["a.example", "b"]);
});

it("turns the lifetimes into the tls provider's hours", () => {
    expect(leafValidity(settings)).toEqual({ validityPeriodHours: 2160, earlyRenewalHours: 720 });
    expect(caValidity(settings)).toEqual({ validityPeriodHours: 87600, earlyRenewalHours: 720 });
});

it("asks cert-manager for the same certificate: names, lifetimes, the issuer, a new key on each renewal", () => {
    const cert = certManagerCertificate({ secretName: "kong-proxy-tls", namespace: "bss", commonName: "api.example.com", dnsNames: ["api.example.com", "kong-proxy", "api.example.com"] }, settings.issuer!, settings);
    expect(cert).toEqual({
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { name: "kong-proxy-tls", namespace: "bss" },
        spec: {
            secretName: "kong-proxy-tls",
            commonName: "api.example.com",
            dnsNames: ["api.example.com", "kong-proxy"],
            duration: "2160h",
            renewBefore: "720h",
            privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
            usages: ["server auth", "digital signature", "key encipherment"],
            issuerRef: { group: "cert-manager.io", kind: "Issuer", name: "bss-ca" },
        },
    });
});
