import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { AkhqSettings } from "../../settings/akhq";
import { SecretValue } from "../../settings/secret";
import { AKHQ_ADMIN_USER, AKHQ_NAME, AKHQ_PORTS, renderCredentialsYml } from "./config";
import { AkhqCredentials, buildAkhqObjects } from "./objects";
import { contentChecksum } from "../shared/checksum";

export interface AkhqArgs {
    /** Namespace of every object; no default (the stack's `bss:namespace`). */
    namespace: string;
    /** The stack's `bss:akhq` slice; defaults are applied in settings/akhq.ts (login on outside dev, nodePort 30083). */
    settings: AkhqSettings;
    /** `bss:akhqPassword`; default: a generated 24-character password. Ignored while login is off. */
    adminPassword?: SecretValue;
}

/**
 * AKHQ, the Kafka web UI: one Deployment reading the in-cluster bootstrap Service, served under the same path
 * directly (NodePort Service `akhq`) and behind Kong. With login on, the admin password and the session-signing
 * key live only in the Secret `akhq-credentials` and in the stack's secret outputs.
 */
export class Akhq extends pulumi.ComponentResource {
    readonly deployment: k8s.apps.v1.Deployment;
    readonly service: k8s.core.v1.Service;
    /** In-cluster address of the UI, context path included. */
    readonly url: string;
    /** Login of the admin user; undefined while login is off. */
    readonly adminUser?: string;
    /** Password of the admin user (a Pulumi secret); undefined while login is off. */
    readonly adminPassword?: pulumi.Output<string>;

    constructor(name: string, args: AkhqArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bss:akhq:Akhq", name, {}, opts);
        const { namespace, settings } = args;

        let credentials: AkhqCredentials | undefined;
        if (settings.authEnabled) {
            this.adminUser = AKHQ_ADMIN_USER;
            this.adminPassword = args.adminPassword
                ? pulumi.secret(args.adminPassword.reveal())
                : pulumi.secret(new random.RandomPassword(`${name}-admin-password`, { length: 24, special: false }, { parent: this }).result);
            const jwtSecret = pulumi.secret(new random.RandomPassword(`${name}-jwt-secret`, { length: 64, special: false }, { parent: this }).result);
            const yaml = pulumi.all([this.adminPassword, jwtSecret]).apply(([adminPassword, secret]) => renderCredentialsYml({ adminPassword, jwtSecret: secret }));
            credentials = {
                yaml,
                // The digest covers the 64-character signing key as well, so it reveals nothing about the password
                // hash; unmarked, the Deployment's diff stays readable in `pulumi preview`.
                checksum: pulumi.unsecret(yaml.apply((text) => contentChecksum(text))),
            };
        }

        const objects = buildAkhqObjects(namespace, settings, credentials);
        const config = new k8s.core.v1.ConfigMap(`${name}-config`, objects.config, { parent: this });
        const secret = objects.credentials && new k8s.core.v1.Secret(`${name}-credentials`, objects.credentials, { parent: this });
        this.service = new k8s.core.v1.Service(name, objects.service, { parent: this });
        this.deployment = new k8s.apps.v1.Deployment(name, objects.deployment, {
            parent: this,
            dependsOn: secret ? [config, secret] : [config],
        });
        this.url = `http://${AKHQ_NAME}.${namespace}.svc.cluster.local:${AKHQ_PORTS.http}${settings.contextPath}`;
        this.registerOutputs({ url: this.url, adminUser: this.adminUser, adminPassword: this.adminPassword });
    }
}
