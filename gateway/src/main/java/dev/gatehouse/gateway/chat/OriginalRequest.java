package dev.gatehouse.gateway.chat;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Map;

/**
 * A request's body as its client sent it, kept beside the decoded {@link ChatRequest} for a target
 * that speaks the client's own dialect (an Anthropic target for the Messages API, an OpenAI target
 * with the Responses API): such a target is sent this body (with its own model name) instead of a
 * translation, so nothing the internal form cannot say is lost (cache_control, thinking blocks,
 * citations, fields Gatehouse does not know). Every other target is sent the translation.
 *
 * @param body         the client's body; never changed (a target sends a copy with its model name)
 * @param headers      the client's headers the dialect's API reads (anthropic-version, anthropic-beta);
 *                     empty when none
 * @param untranslated the first field only the dialect's own API can serve ({@code thinking}, a
 *                     thinking block's path, a server tool); null when the translation says it all.
 *                     Targets that do not take the original pass over such a request.
 */
public record OriginalRequest(Dialect dialect, ObjectNode body, Map<String, String> headers, String untranslated) {

    /** The inbound APIs whose bodies some targets take unchanged. */
    public enum Dialect {
        ANTHROPIC_MESSAGES("Anthropic's Messages API", "anthropic"),
        OPENAI_RESPONSES("OpenAI's Responses API", "openai with responses-api: true");

        private final String title;
        private final String providers;

        Dialect(String title, String providers) {
            this.title = title;
            this.providers = providers;
        }

        /** What the error naming a field only this dialect's targets serve says. */
        public String onlyServedBy() {
            return "only targets that speak " + title + " serve it (providers of type " + providers + ")";
        }
    }

    public OriginalRequest {
        headers = headers == null ? Map.of() : Map.copyOf(headers);
    }

    /** The body to send a target: the client's fields, with the target's name for the model. */
    public ObjectNode bodyFor(String model) {
        ObjectNode copy = body.objectNode(); // shallow: the client's nested nodes are shared, never changed
        copy.setAll(body);
        copy.put("model", model);
        return copy;
    }
}
