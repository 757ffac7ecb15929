/**
 * Reads the big-endian primitives of Kafka's wire protocol from one response frame and refuses to run past its end:
 * the one reader of the Metadata codec (components/shared/kafka-metadata.ts) and the DescribeQuorum codec
 * (scripts/verify/kafka-quorum.ts). `response` names the frame in every error.
 */
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

    /** A BOOLEAN: one byte, anything but 0 is true. */
    boolean(what: string): boolean {
        return this.bytes[this.take(1, what)] !== 0;
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
