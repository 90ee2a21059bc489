package dev.gatehouse.gateway.backend;

import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ContentPart;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.OriginalRequest;
import dev.gatehouse.gateway.chat.ResponseFormat;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * What a backend can serve beyond plain text, as it declares it: the router passes over a target
 * that cannot serve a request, naming the reason in x-gatehouse-fallbacks, instead of letting it
 * drop what it does not understand.
 *
 * @param contextLength the backend's context in tokens when it knows it (a local engine); null when not
 * @param originals     the dialects whose original bodies it sends unchanged (see {@link OriginalRequest});
 *                      only these serve a request with a field the translation cannot carry
 */
public record Capabilities(boolean tools, boolean images, boolean jsonObject, boolean jsonSchema, Integer contextLength,
                           Set<OriginalRequest.Dialect> originals) {
    /** A cloud API that takes everything the internal request can say. */
    public static final Capabilities EVERYTHING = new Capabilities(true, true, true, true, null);
    /** Plain text only. */
    public static final Capabilities TEXT = new Capabilities(false, false, false, false, null);

    public Capabilities {
        originals = Set.copyOf(originals);
    }

    /** A backend that takes no original bodies. */
    public Capabilities(boolean tools, boolean images, boolean jsonObject, boolean jsonSchema, Integer contextLength) {
        this(tools, images, jsonObject, jsonSchema, contextLength, Set.of());
    }

    /** The same, also sending the original bodies of {@code dialect} unchanged. */
    public Capabilities takingOriginals(OriginalRequest.Dialect dialect) {
        Set<OriginalRequest.Dialect> more = new HashSet<>(originals);
        more.add(dialect);
        return new Capabilities(tools, images, jsonObject, jsonSchema, contextLength, more);
    }

    /** Why a backend cannot serve a request: the short reason for x-gatehouse-fallbacks and the client's 400. */
    public record Gap(String reason, ApiException error) {}

    /** The first thing of {@code r} this backend cannot serve; null when it can serve all of it. */
    public Gap gap(ChatRequest r) {
        OriginalRequest original = r.original();
        if (original != null && original.untranslated() != null && !originals.contains(original.dialect())) {
            return new Gap("needs " + original.dialect().name().toLowerCase(Locale.ROOT),
                    ApiException.unsupported(original.untranslated(), "'" + original.untranslated()
                            + "' cannot be served by this model: " + original.dialect().onlyServedBy() + "."));
        }
        if (!tools && r.usesTools()) {
            return new Gap("no tools", ApiException.unsupported(toolParam(r), "This model cannot call tools."));
        }
        if (!images && r.hasImages()) {
            return new Gap("no images", ApiException.unsupported(imageParam(r), "This model does not take images."));
        }
        ResponseFormat f = r.responseFormat();
        if (f != null && f.type() == ResponseFormat.Type.JSON_OBJECT && !jsonObject) {
            return new Gap("no json_object", ApiException.unsupportedValue("response_format",
                    "This model does not support response_format 'json_object'."));
        }
        if (f != null && f.type() == ResponseFormat.Type.JSON_SCHEMA && !jsonSchema) {
            return new Gap("no json_schema", ApiException.unsupportedValue("response_format",
                    "This model does not support response_format 'json_schema'."));
        }
        return null;
    }

    /** "tools" when the request offers tools, else the first message that carries a call or a result. */
    private static String toolParam(ChatRequest r) {
        if (!r.tools().isEmpty()) {
            return "tools";
        }
        for (int i = 0; i < r.messages().size(); i++) {
            Message m = r.messages().get(i);
            if (!m.toolCalls().isEmpty()) {
                return "messages[" + i + "].tool_calls";
            }
            if (Message.TOOL.equals(m.role())) {
                return "messages[" + i + "].role";
            }
        }
        return "tools";
    }

    private static String imageParam(ChatRequest r) {
        for (int i = 0; i < r.messages().size(); i++) {
            for (int j = 0; j < r.messages().get(i).content().size(); j++) {
                if (r.messages().get(i).content().get(j) instanceof ContentPart.Image) {
                    return "messages[" + i + "].content[" + j + "]";
                }
            }
        }
        return "messages";
    }
}
