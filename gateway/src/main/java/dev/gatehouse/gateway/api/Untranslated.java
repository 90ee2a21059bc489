package dev.gatehouse.gateway.api;

/**
 * While a dialect's body is decoded: the first field found that only the dialect's own API serves
 * (Anthropic's thinking, OpenAI's built-in tools, ...), which the internal form cannot carry. It
 * becomes {@link dev.gatehouse.gateway.chat.OriginalRequest#untranslated()}.
 */
public final class Untranslated {
    private String field;

    /** Notes {@code where} (a field's path), unless an earlier field was noted. */
    public void mark(String where) {
        if (field == null) {
            field = where;
        }
    }

    /** The first field noted; null when none was. */
    public String field() {
        return field;
    }
}
