package dev.gatehouse.gateway.backend.vertex;

import dev.gatehouse.gateway.chat.ApiException;

import java.util.regex.Pattern;

/**
 * Who publishes a model on Vertex AI, and the model's name there: {@code anthropic/claude-sonnet-4@20250514}
 * or {@code google/gemini-2.5-flash} say it; a bare name starting with {@code claude} is Anthropic's,
 * any other Google's.
 */
record VertexPublisher(String publisher, String model) {
    static final String GOOGLE = "google";
    static final String ANTHROPIC = "anthropic";
    /** Vertex model ids: letters, digits, '.', '_', '-', and '@' before a version; nothing that could leave the path. */
    private static final Pattern MODEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,127}");

    static VertexPublisher of(String model) {
        int slash = model.indexOf('/');
        String publisher = slash > 0 ? model.substring(0, slash) : model.startsWith("claude") ? ANTHROPIC : GOOGLE;
        String name = slash > 0 ? model.substring(slash + 1) : model;
        if (!publisher.equals(GOOGLE) && !publisher.equals(ANTHROPIC)) {
            throw ApiException.invalid("model", "Vertex AI publisher '" + publisher + "' is not served (google, anthropic).");
        }
        if (!MODEL.matcher(name).matches()) {
            throw ApiException.invalid("model", "'" + name + "' is not a Vertex AI model id.");
        }
        return new VertexPublisher(publisher, name);
    }

    boolean anthropic() {
        return publisher.equals(ANTHROPIC);
    }
}
