package dev.gatehouse.gateway.api.openai;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ApiException;
import io.helidon.http.HeaderValues;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Reads a request body under the size limit and parses it as JSON, turning every way a body can be
 * wrong (too large, badly framed, not UTF-8, not JSON) into OpenAI's 400 or 413.
 */
public final class RequestBody {
    private static final Logger LOG = Logger.getLogger(RequestBody.class.getName());

    /** How much of an oversized body is read and dropped so the 413 reaches the client (see tooLarge). */
    private static final long DRAIN_LIMIT = 64L << 20;

    private final long maxBodyBytes;

    public RequestBody(long maxBodyBytes) {
        this.maxBodyBytes = maxBodyBytes;
    }

    /** The body as JSON, or an ApiException saying what is wrong with it in the client's terms. */
    public JsonNode read(ServerRequest req, ServerResponse res) {
        long declared = req.headers().contentLength().orElse(0);
        if (declared < 0) { // Helidon reads -1 as "chunked" and fails on other negatives deep in its reader
            throw unreadable(res, "Invalid Content-Length: " + declared + ".");
        }
        boolean expectContinue = req.headers().contains(HeaderValues.EXPECT_100);
        if (declared > maxBodyBytes && (declared > DRAIN_LIMIT || expectContinue)) {
            throw tooLarge(res, null); // not worth reading, or not even sent yet: answer and close
        }
        InputStream in = req.content().inputStream();
        if (declared > maxBodyBytes) {
            throw tooLarge(res, in);
        }
        byte[] bytes;
        try {
            // A declared length is read as it is (one array of that size); a chunked body up to one
            // byte past the limit, which tells an oversized one (readNBytes then takes 16 KB steps).
            bytes = in.readNBytes(declared > 0 ? (int) declared : (int) maxBodyBytes + 1);
        } catch (IOException | RuntimeException e) {
            // bad chunk sizes, a body shorter than its Content-Length, a client gone: the client's doing, not a 500
            LOG.log(Level.FINE, "unreadable request body", e);
            throw unreadable(res, "The request body could not be read: the connection ended early or the body's framing "
                    + "(Content-Length or chunked encoding) is invalid.");
        }
        if (bytes.length > maxBodyBytes) {
            throw tooLarge(res, in);
        }
        try {
            in.close(); // at the end already; marks the entity consumed
        } catch (IOException | RuntimeException e) {
            throw unreadable(res, "The request body could not be read.");
        }
        if (bytes.length == 0) {
            throw ApiException.invalid(null, "The request body is empty; expected a JSON object.");
        }
        // Jackson's decoder lets overlong forms (0xC0 0xAF = '/') through; JSON on the wire must be valid UTF-8.
        // ASCII is valid as it is: the decoder's check (a char buffer twice the body's size) only for other bytes.
        if (!isAscii(bytes)) {
            try {
                StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes));
            } catch (CharacterCodingException e) {
                throw ApiException.invalid(null, "The request body is not valid UTF-8.");
            }
        }
        try {
            return OpenAiJson.MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw ApiException.invalid(null, "We could not parse the JSON body of your request: " + jsonProblem(e));
        } catch (IOException e) {
            throw ApiException.invalid(null, "We could not parse the JSON body of your request.");
        }
    }

    private static boolean isAscii(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean drain(InputStream in) {
        byte[] scratch = new byte[64 * 1024];
        long dropped = 0;
        try {
            for (int n; (n = in.read(scratch)) >= 0; ) {
                dropped += n;
                if (dropped > DRAIN_LIMIT) {
                    return false;
                }
            }
            in.close();
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Jackson's own words, minus what is about Jackson rather than the JSON: its class and feature names
     * ("enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS`", "from `StreamReadConstraints...`",
     * "[Source: REDACTED ...]"), with the position instead.
     */
    static String jsonProblem(JsonProcessingException e) {
        String why = e.getOriginalMessage();
        if (why.startsWith("Trailing token")) {
            why = "unexpected data after the JSON value";
        }
        why = why.replaceAll(", from `[^`]*`", "")
                .replaceAll(": enable `[^`]*` to allow", "")
                .replaceAll(" \\(not recognized as one since Feature '[^']*' not enabled for parser\\)", "")
                .replaceAll(" \\(start marker at \\[Source.*$", "");
        if (why.contains("`") || why.contains("[Source")) {
            why = "invalid JSON"; // an unforeseen message: better vague than leaking internals
        }
        JsonLocation at = e.getLocation();
        return at == null || at.getLineNr() < 1 ? why : why + " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ").";
    }

    /**
     * The connection closes after these answers (see handle): reading the rest of the body would take
     * all of an oversized one, however large the client says it is, and with broken framing would wait
     * for bytes that never come.
     */
    private static ApiException unreadable(ServerResponse res, String message) {
        res.header(HeaderValues.CONNECTION_CLOSE);
        return ApiException.invalid(null, message);
    }

    /**
     * 413. The rest of the body, up to {@link #DRAIN_LIMIT}, is read and dropped first: a client still
     * sending it would otherwise see the connection reset instead of the answer. A larger rest, or
     * {@code in} null, closes the connection after the answer.
     */
    private ApiException tooLarge(ServerResponse res, InputStream in) {
        if (in == null || !drain(in)) {
            res.header(HeaderValues.CONNECTION_CLOSE);
        }
        return new ApiException(413, "invalid_request_error", "request_too_large", null,
                "The request body is larger than " + maxBodyBytes + " bytes.", null);
    }
}
