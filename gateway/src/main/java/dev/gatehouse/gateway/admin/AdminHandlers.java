package dev.gatehouse.gateway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.api.openai.OpenAiApi;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.chat.ApiException;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/** What every /admin endpoint shares: the master-key guard and JSON answers. */
final class AdminHandlers {
    private static final Logger LOG = Logger.getLogger(AdminHandlers.class.getName());
    static final ObjectMapper JSON = new ObjectMapper();

    private AdminHandlers() {}

    /** Master key first, then the handler; every failure in OpenAI's error shape, never a stack trace. */
    static Handler guarded(ApiAuth auth, Handler h) {
        return (req, res) -> {
            try {
                auth.requireMaster(req);
                h.handle(req, res);
            } catch (ApiException e) {
                OpenAiApi.send(res, e);
            } catch (Exception e) {
                LOG.log(Level.SEVERE, "internal error on " + req.prologue().uriPath().path(), e);
                OpenAiApi.send(res, new ApiException(500, "server_error", null, null, "Internal server error.", null));
            }
        };
    }

    /**
     * The request body as text: a 400 when there is none or it is not valid UTF-8 (decoding leniently
     * would turn an overlong '/' into a real one). Helidon bounds what it reads into memory.
     */
    static String body(ServerRequest req) {
        if (!req.content().hasEntity()) {
            throw ApiException.invalid(null, "The body is empty; expected a JSON object.");
        }
        byte[] bytes = req.content().as(byte[].class);
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw ApiException.invalid(null, "The body is not valid UTF-8.");
        }
    }

    /** A request body that must be a JSON object with no fields but {@code fields}: a typo is a 400, not ignored. */
    static JsonNode jsonObject(String body, Set<String> fields) {
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (IOException e) {
            throw ApiException.invalid(null, "The body is not valid JSON.");
        }
        if (n == null || !n.isObject()) {
            throw ApiException.invalid(null, "The body must be a JSON object.");
        }
        n.fieldNames().forEachRemaining(f -> {
            if (!fields.contains(f)) {
                throw ApiException.invalid(f, "Unknown field '" + f + "' (expected one of " + fields + ").");
            }
        });
        return n;
    }

    static void send(ServerResponse res, ObjectNode out) {
        try {
            res.header(HeaderNames.CONTENT_TYPE, "application/json").send(JSON.writeValueAsBytes(out));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
