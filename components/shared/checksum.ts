import { createHash } from "crypto";

/** SHA-256 of a text, hex. */
export function sha256Hex(text: string): string {
    return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * A short digest of what a pod reads from its ConfigMaps and Secrets, for a pod-template annotation: the
 * running process never rereads those files, so a change must roll the pods.
 */
export function contentChecksum(...data: unknown[]): string {
    return sha256Hex(JSON.stringify(data)).slice(0, 16);
}

/** Pod-template annotation holding `contentChecksum` of the pod's configuration. */
export const CONFIG_CHECKSUM_ANNOTATION = "bss/config-checksum";
