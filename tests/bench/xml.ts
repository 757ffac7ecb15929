/** Tags balance and nest, attributes are quoted, and text holds no raw '<' or '&': enough of XML for these charts. */
export function xmlProblems(text: string): string[] {
    const problems: string[] = [];
    const stack: string[] = [];
    const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|&(?!(?:amp|lt|gt|quot|apos);)/g;
    let match: RegExpExecArray | null;
    while ((match = token.exec(text)) !== null) {
        const [whole, closing, name, , selfClosing] = match;
        if (!name) {
            problems.push(`stray ${JSON.stringify(whole)} at ${match.index}`);
        } else if (closing) {
            const open = stack.pop();
            if (open !== name) {
                problems.push(`</${name}> closes <${open}>`);
            }
        } else if (!selfClosing) {
            stack.push(name);
        }
    }
    if (stack.length > 0) {
        problems.push(`unclosed ${stack.join(", ")}`);
    }
    return problems;
}
