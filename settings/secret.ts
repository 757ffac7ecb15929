/**
 * A secret from stack config. It keeps the value out of anything that prints or serialises the settings
 * (logs, error messages, JSON): only `reveal()` hands it out, for wrapping in `pulumi.secret`.
 */
export class SecretValue {
    readonly #value: string;

    constructor(value: string) {
        this.#value = value;
    }

    reveal(): string {
        return this.#value;
    }

    toString(): string {
        return "<redacted>";
    }

    toJSON(): string {
        return "<redacted>";
    }

    [Symbol.for("nodejs.util.inspect.custom")](): string {
        return "SecretValue(<redacted>)";
    }
}
