package dev.gatehouse.gateway.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.pipeline.TokenEstimate;
import dev.gatehouse.serving.embed.EmbeddingModel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * POST /v1/embeddings in OpenAI's shape: {@code input} as a string, a list of strings, a list of
 * token ids or a list of token-id lists; {@code encoding_format} float or base64 (little-endian
 * float32, as OpenAI sends it); {@code dimensions} only equal to the model's own size, since none
 * of the BERT models served here was trained for shortened (Matryoshka) vectors.
 *
 * <p>Length: text is truncated at the model's max_seq_length as sentence-transformers does
 * ([SEP] kept last), so the vectors equal the model's published ones; token ids are the client's
 * exact input and are rejected (400, context_length_exceeded) when longer than the model takes,
 * and (400) when an id is outside the model's vocabulary.
 */
final class EmbeddingsRequests {
    static final int MAX_INPUTS = 2048;

    record Parsed(String model, List<int[]> inputs, boolean base64) {}

    private EmbeddingsRequests() {}

    static String model(JsonNode body) {
        if (!body.isObject()) {
            throw ApiException.invalid(null, "The request body must be a JSON object.");
        }
        JsonNode model = body.path("model");
        if (!model.isTextual() || model.asText().isEmpty()) {
            throw ApiException.invalid("model", "'model' is required and must be a string.");
        }
        return model.asText();
    }

    /** The input's tokens for the rate limiter, before the model tokenizes it: characters / 4, and each token id as one. */
    static long estimate(JsonNode body) {
        return TokenEstimate.fromChars(chars(body.path("input")));
    }

    private static long chars(JsonNode n) {
        if (n.isTextual()) {
            return n.textValue().length();
        }
        long sum = 0;
        for (JsonNode child : n) { // a list of strings, of token ids, or of lists of token ids
            sum += child.isNumber() ? 4 : chars(child);
        }
        return sum;
    }

    static Parsed parse(JsonNode body, EmbeddingModel model) {
        String name = model(body);
        JsonNode input = body.path("input");
        List<int[]> inputs = new ArrayList<>();
        if (input.isTextual()) {
            inputs.add(text(input, model));
        } else if (input.isArray() && !input.isEmpty()) {
            if (input.size() > MAX_INPUTS) {
                throw ApiException.invalid("input", "'input' has " + input.size() + " items; at most " + MAX_INPUTS + " are allowed.");
            }
            if (input.get(0).isIntegralNumber()) {
                inputs.add(tokens(input, model));
            } else {
                for (JsonNode item : input) {
                    if (item.isTextual()) {
                        inputs.add(text(item, model));
                    } else if (item.isArray()) {
                        inputs.add(tokens(item, model));
                    } else {
                        throw ApiException.invalid("input", "Each item of 'input' must be a string or a list of token ids.");
                    }
                }
            }
        } else {
            throw ApiException.invalid("input", "'input' must be a non-empty string, list of strings, list of token ids or list of lists of token ids.");
        }
        String format = body.path("encoding_format").asText("float");
        if (!body.path("encoding_format").isMissingNode() && !body.path("encoding_format").isNull()
                && !(format.equals("float") || format.equals("base64"))) {
            throw ApiException.invalid("encoding_format", "'encoding_format' must be 'float' or 'base64'.");
        }
        JsonNode dims = body.path("dimensions");
        if (!dims.isMissingNode() && !dims.isNull() && (!dims.isIntegralNumber() || dims.intValue() != model.dimensions())) {
            throw ApiException.invalid("dimensions", "Model '" + name + "' gives " + model.dimensions()
                    + "-dimensional vectors and does not support other 'dimensions'.");
        }
        return new Parsed(name, inputs, format.equals("base64"));
    }

    private static int[] text(JsonNode item, EmbeddingModel model) {
        if (item.asText().isEmpty()) {
            throw ApiException.invalid("input", "'input' cannot contain an empty string.");
        }
        return model.tokenize(item.asText());
    }

    private static int[] tokens(JsonNode list, EmbeddingModel model) {
        if (list.isEmpty()) {
            throw ApiException.invalid("input", "'input' cannot contain an empty list of token ids.");
        }
        if (list.size() > model.maxTokens()) {
            throw ApiException.contextLength("input", "An input has " + list.size() + " tokens; model '" + model.name()
                    + "' takes at most " + model.maxTokens() + ". Send text to have it truncated, or shorten the input.");
        }
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = list.get(i);
            if (!t.isIntegralNumber()) {
                throw ApiException.invalid("input", "Token ids must be integers; got " + t + ".");
            }
            // checked here, before the batch: an id past the embedding table would fail the whole forward pass
            if (!t.canConvertToLong() || t.longValue() < 0 || t.longValue() >= model.vocabSize()) {
                throw ApiException.invalid("input", "Token id " + t.asText() + " is out of range: model '" + model.name()
                        + "' has a vocabulary of " + model.vocabSize() + " tokens (ids 0 to " + (model.vocabSize() - 1) + ").");
            }
            ids[i] = t.intValue();
        }
        return ids;
    }

    static ObjectNode response(String model, List<float[]> vectors, int promptTokens, boolean base64) {
        ObjectNode root = OpenAiJson.MAPPER.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (int i = 0; i < vectors.size(); i++) {
            ObjectNode item = data.addObject();
            item.put("object", "embedding");
            item.put("index", i);
            float[] v = vectors.get(i);
            if (base64) {
                ByteBuffer buf = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : v) {
                    buf.putFloat(f);
                }
                item.put("embedding", Base64.getEncoder().encodeToString(buf.array()));
            } else {
                ArrayNode arr = item.putArray("embedding");
                for (float f : v) {
                    arr.add(f);
                }
            }
        }
        root.put("model", model);
        ObjectNode usage = root.putObject("usage");
        usage.put("prompt_tokens", promptTokens);
        usage.put("total_tokens", promptTokens);
        return root;
    }
}
