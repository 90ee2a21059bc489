package dev.gatehouse.gateway.backend;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Takes whatever looks like a credential out of text a provider wrote before it reaches a client.
 * Providers quote keys in their errors (OpenAI's 401 quotes part of the key it was given, a proxy
 * may echo a header back), and the key quoted need not be ours: it may be another provider's, or
 * from a mirror's own configuration. So besides our own key, every provider key shape, Google access tokens, bearer and
 * basic credentials, JWTs, {@code api_key=...} pairs and long key-like strings are replaced by
 * {@code ***}. Each pattern starts only where a word starts, so scrubbing is linear in the text.
 */
public final class Credentials {
    private static final String MASK = "***";

    private record Shape(Pattern pattern, String replacement) {
        Shape(String regex, String replacement) {
            this(Pattern.compile(regex, Pattern.CASE_INSENSITIVE), replacement);
        }
    }

    private static final List<Shape> SHAPES = List.of(
            // "Authorization: Bearer <token>", "Basic <base64>": keep the scheme, drop the credential
            new Shape("\\b(bearer|basic)(\\s+)[A-Za-z0-9._~+/=*-]{16,}", "$1$2" + MASK),
            // api_key=..., "x-api-key": "...", access_token: ..., password=...
            new Shape("\\b((?:x-)?(?:api[_-]?key|access[_-]?token|auth[_-]?token|secret|password)[\"']?\\s{0,3}[=:]\\s{0,3}[\"']?)"
                    + "[^\\s\"'&,;]{6,}", "$1" + MASK),
            // OpenAI (sk-, sk-proj-), Anthropic (sk-ant-), and the many OpenAI-compatible hosts that copy the shape
            new Shape("(?<![A-Za-z0-9])sk-[A-Za-z0-9_*-]{6,}", MASK),
            // Google API keys (Gemini)
            new Shape("(?<![A-Za-z0-9])AIza[A-Za-z0-9_-]{20,}", MASK),
            // Google OAuth2 access tokens (Vertex AI)
            new Shape("(?<![A-Za-z0-9])ya29\\.[A-Za-z0-9._-]{5,}[A-Za-z0-9_-]", MASK), // not a sentence's full stop
            // JWTs: header.payload.signature, base64url
            new Shape("(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{6,}\\.[A-Za-z0-9_-]{6,}\\.[A-Za-z0-9_-]*", MASK),
            // anything else key-shaped: 32 or more letters, digits, _ and - with both letters and digits,
            // e.g. Azure's 32 hex digits (a request id or a UUID goes too: better than a key left in)
            new Shape("(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,}", MASK));

    private Credentials() {}

    /** {@code text} with {@code ownKey} (may be null) and everything credential-shaped replaced by {@code ***}. */
    public static String scrub(String text, String ownKey) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String out = ownKey == null || ownKey.isEmpty() ? text : text.replace(ownKey, MASK);
        for (Shape shape : SHAPES) {
            out = shape.pattern().matcher(out).replaceAll(shape.replacement());
        }
        return out;
    }
}
