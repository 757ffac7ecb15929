/**
 * Kafka's wire protocol without a client library: one request frame over a fresh TCP connection
 * (`exchangeFrame`), and a reader of the big-endian primitives of the response frame that refuses to run past its
 * end. Shared by the Metadata codec (components/shared/kafka-metadata.ts), the DescribeQuorum and DescribeConfigs
 * codecs of `verify` (scripts/verify/kafka-quorum.ts, kafka-configs.ts).
 */
import * as net from "net";

/** Splits `host:port` (the last colon separates the port, so bracketless IPv6 is not supported). */
export function splitAddress(address: string): { host: string; port: number } {
    const colon = address.lastIndexOf(":");
    const port = Number(address.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Error(`"${address}" is not host:port`);
    }
    return { host: address.slice(0, colon), port };
}

/**
 * Sends `request` (a whole frame, size prefix included) to `address` over a fresh connection and resolves with the
 * whole response frame, size prefix included. Fails on a refused or reset connection, a connection closed before
 * the answer is complete (what kind's port proxy does while the NodePort is not programmed yet), and on silence
 * longer than `timeoutMs` (the error `silence` makes).
 */
export function exchangeFrame(address: string, request: Buffer, timeoutMs: number, silence: () => Error): Promise<Buffer> {
    const { host, port } = splitAddress(address);
    return new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let received = 0;
        let settled = false;
        const socket = net.connect({ host, port });
        const finish = (error: Error | undefined, frame?: Buffer) => {
            if (settled) {
                return;
            }
            settled = true;
            socket.destroy();
            if (error) {
                reject(error);
            } else {
                resolve(frame!);
            }
        };
        socket.setTimeout(timeoutMs, () => finish(silence()));
        socket.on("connect", () => socket.write(request));
        socket.on("error", (error) => finish(error));
        socket.on("close", () => finish(new Error(received === 0 ? "connection closed before any answer" : `connection closed after ${received} byte(s) of the answer`)));
        socket.on("data", (chunk: Buffer) => {
            chunks.push(chunk);
            received += chunk.length;
            if (received < 4) {
                return;
            }
            const frame = Buffer.concat(chunks);
            const size = frame.readInt32BE(0);
            if (frame.length >= 4 + size) {
                finish(undefined, frame.subarray(0, 4 + size));
            }
        });
    });
}

/** Reads one response frame; `response` names the frame in every error. */
export class KafkaWireReader {
    private offset = 0;
    constructor(private readonly bytes: Buffer, private readonly response: string) {}

    private take(count: number, what: string): number {
        if (this.offset + count > this.bytes.length) {
            throw new Error(`${this.response} response truncated: ${what} needs ${count} byte(s) at offset ${this.offset}, ${this.bytes.length - this.offset} left`);
        }
        const at = this.offset;
        this.offset += count;
        return at;
    }

    /** The size prefix, checked against the frame, then the correlation id: how every response frame opens. */
    header(): number {
        const size = this.int32("size");
        if (size !== this.bytes.length - 4) {
            throw new Error(`${this.response} response frame says ${size} byte(s) but carries ${this.bytes.length - 4}`);
        }
        return this.int32("correlation id");
    }

    /** A BOOLEAN: one byte, anything but 0 is true. */
    boolean(what: string): boolean {
        return this.bytes[this.take(1, what)] !== 0;
    }

    int8(what: string): number {
        return this.bytes.readInt8(this.take(1, what));
    }

    int16(what: string): number {
        return this.bytes.readInt16BE(this.take(2, what));
    }

    int32(what: string): number {
        return this.bytes.readInt32BE(this.take(4, what));
    }

    int64(what: string): number {
        return Number(this.bytes.readBigInt64BE(this.take(8, what)));
    }

    /** An unsigned varint (flexible versions' lengths and tag counts). */
    uvarint(what: string): number {
        let value = 0;
        for (let shift = 0; shift < 35; shift += 7) {
            const byte = this.bytes[this.take(1, what)];
            value |= (byte & 0x7f) << shift;
            if ((byte & 0x80) === 0) {
                return value;
            }
        }
        throw new Error(`${this.response} response has an overlong varint for ${what}`);
    }

    /** Bytes not read yet: a parser that read every field it knows and finds some left misread the frame. */
    remaining(): number {
        return this.bytes.length - this.offset;
    }

    skip(count: number, what: string): void {
        this.take(count, what);
    }

    /** Tagged fields of a flexible version: none are read, all are skipped. */
    tags(what: string): void {
        const count = this.uvarint(`${what} tag count`);
        for (let i = 0; i < count; i++) {
            this.uvarint(`${what} tag`);
            this.skip(this.uvarint(`${what} tag size`), `${what} tag data`);
        }
    }

    /** An INT16-length string; null for length -1. */
    nullableString(what: string): string | null {
        const length = this.int16(`${what} length`);
        if (length < 0) {
            return null;
        }
        const at = this.take(length, what);
        return this.bytes.toString("utf8", at, at + length);
    }

    string(what: string): string {
        const value = this.nullableString(what);
        if (value === null) {
            throw new Error(`${this.response} response has a null ${what}`);
        }
        return value;
    }
}
