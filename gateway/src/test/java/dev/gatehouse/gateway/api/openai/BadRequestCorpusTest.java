package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kind of bad request a client can send, over real HTTP as raw bytes: each gets the documented
 * status and OpenAI's error body ({@code {"error": {message, type, param, code}}}), no Java internals,
 * and the server answers a normal request after each one and after the whole corpus.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BadRequestCorpusTest {
    static final String MODEL = "tiny";
    static final int MAX_BODY = 64 * 1024;
    static final ObjectMapper JSON = new ObjectMapper();
    /** Stack frames, exception class names and library internals must never reach the client. */
    static final Pattern LEAK = Pattern.compile("\\bat (dev|java|jdk|com|io|org|sun)\\.|Exception|Error:|`|\\[Source|"
            + "dev\\.gatehouse|com\\.fasterxml|io\\.helidon|java\\.lang|StreamReadConstraints|\\(Source: ");

    @TempDir
    static Path store;
    static LocalModels models;
    static GatewayServer server;
    static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        TestModelFolder.llama().write(store.resolve(MODEL));
        var registry = GatewayServer.newRegistry();
        models = new LocalModels();
        models.loadAll(store, DeviceChoice.CPU, EngineConfig.defaults(), registry);
        server = GatewayServer.builder(models, registry).maxBodyBytes(MAX_BODY).grace(Duration.ofSeconds(1)).start();
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    // ------------------------------------------------------------------------------------------ corpus

    /** What the response must be: status and the error's type, code and param (null = JSON null). */
    record Expect(int status, String type, String code, String param) {}

    record Row(String method, String path, byte[] body, boolean chunked, Expect expect) {}

    static Expect bad(String param) {
        return new Expect(400, "invalid_request_error", null, param);
    }

    /** A parameter the local model cannot serve (tools, images, response formats): another target might. */
    static Expect unsupported(String param) {
        return new Expect(400, "invalid_request_error", "unsupported_parameter", param);
    }

    static Expect unsupportedValue(String param) {
        return new Expect(400, "invalid_request_error", "unsupported_value", param);
    }

    static final Expect MALFORMED = bad(null);
    static final Expect TOO_LARGE = new Expect(413, "invalid_request_error", "request_too_large", null);
    static final Expect NO_MODEL = new Expect(404, "invalid_request_error", "model_not_found", "model");
    static final Expect NO_URL = new Expect(404, "invalid_request_error", "unknown_url", null);
    static final Expect CONTEXT_CHAT = new Expect(400, "invalid_request_error", "context_length_exceeded", "messages");
    static final Expect CONTEXT_PROMPT = new Expect(400, "invalid_request_error", "context_length_exceeded", "prompt");

    static final String CHAT = "/v1/chat/completions";
    static final String COMPLETIONS = "/v1/completions";

    static ObjectNode validChat() {
        ObjectNode n = JSON.createObjectNode();
        n.put("model", MODEL);
        n.putArray("messages").addObject().put("role", "user").put("content", "t5 t6 t7");
        n.put("max_tokens", 1);
        return n;
    }

    static ObjectNode validCompletion() {
        ObjectNode n = JSON.createObjectNode();
        n.put("model", MODEL);
        n.put("prompt", "t5 t6 t7");
        n.put("max_tokens", 1);
        return n;
    }

    /** The valid body with {@code field} set to the JSON text {@code value} ({@code null} text = remove the field). */
    static byte[] with(ObjectNode base, String field, String value) {
        try {
            if (value == null) {
                base.remove(field);
            } else {
                base.set(field, JSON.readTree(value));
            }
            return JSON.writeValueAsBytes(base);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A chat body whose only message is the JSON text {@code message}. */
    static byte[] message(String message) {
        return ("{\"model\":\"" + MODEL + "\",\"max_tokens\":1,\"messages\":[" + message + "]}").getBytes(StandardCharsets.UTF_8);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A valid chat request whose content is padded with spaces to {@code bytes} bytes. */
    static byte[] padded(int bytes) {
        byte[] head = utf8("{\"model\":\"" + MODEL + "\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"t5");
        byte[] tail = utf8("\"}]}");
        byte[] pad = new byte[bytes - head.length - tail.length];
        Arrays.fill(pad, (byte) ' ');
        return concat(head, pad, tail);
    }

    static Stream<Named<Row>> corpus() {
        List<Named<Row>> rows = new ArrayList<>();
        class Add {
            void post(String name, String path, byte[] body, Expect e) {
                rows.add(Named.of(name, new Row("POST", path, body, false, e)));
            }

            void chat(String name, byte[] body, Expect e) {
                post("chat: " + name, CHAT, body, e);
            }

            void chatField(String field, String value, Expect e) {
                chat(field + " = " + abbreviate(value), with(validChat(), field, value), e);
            }

            void completion(String name, byte[] body, Expect e) {
                post("completions: " + name, COMPLETIONS, body, e);
            }

            void completionField(String field, String value, Expect e) {
                completion(field + " = " + abbreviate(value), with(validCompletion(), field, value), e);
            }

            void other(String method, String path, Expect e) {
                rows.add(Named.of(method + " " + path, new Row(method, path, null, false, e)));
            }
        }
        Add add = new Add();
        String valid = validChat().toString();

        // malformed JSON and bodies that are not a JSON object
        add.chat("empty body", new byte[0], MALFORMED);
        add.chat("whitespace only", utf8(" \n\t "), MALFORMED);
        add.chat("truncated object", utf8("{\"model\": \"tiny\", \"messages\": ["), MALFORMED);
        add.chat("truncated string", utf8("{\"model\": \"ti"), MALFORMED);
        add.chat("trailing garbage", utf8(valid + " garbage"), MALFORMED);
        add.chat("two objects", utf8(valid + valid), MALFORMED);
        add.chat("trailing comma", utf8("{\"model\": \"tiny\", \"max_tokens\": 1,}"), MALFORMED);
        add.chat("single quotes", utf8("{'model': 'tiny'}"), MALFORMED);
        add.chat("unquoted keys", utf8("{model: \"tiny\"}"), MALFORMED);
        add.chat("comment", utf8("/* hi */ " + valid), MALFORMED);
        add.chat("NaN literal", utf8("{\"model\": \"tiny\", \"temperature\": NaN}"), MALFORMED);
        add.chat("array", utf8("[" + valid + "]"), MALFORMED);
        add.chat("string", utf8("\"hello\""), MALFORMED);
        add.chat("number", utf8("42"), MALFORMED);
        add.chat("null", utf8("null"), MALFORMED);
        add.chat("true", utf8("true"), MALFORMED);
        add.chat("form-encoded", utf8("model=tiny&prompt=hi"), MALFORMED);
        add.chat("invalid UTF-8 byte in a string", concat(utf8("{\"model\":\"tiny\",\"max_tokens\":1,\"messages\":"
                + "[{\"role\":\"user\",\"content\":\"t5 "), new byte[] {(byte) 0xff, (byte) 0xfe}, utf8("\"}]}")), MALFORMED);
        add.chat("truncated UTF-8 sequence", concat(utf8("{\"model\":\"tiny\",\"max_tokens\":1,\"messages\":"
                + "[{\"role\":\"user\",\"content\":\"t5 "), new byte[] {(byte) 0xe2, (byte) 0x82}, utf8("\"}]}")), MALFORMED);
        add.chat("overlong UTF-8 encoding", concat(utf8("{\"model\":\"tiny\",\"max_tokens\":1,\"messages\":"
                + "[{\"role\":\"user\",\"content\":\"t5 "), new byte[] {(byte) 0xc0, (byte) 0xaf}, utf8("\"}]}")), MALFORMED);
        add.chat("nesting 20000 deep", utf8("[".repeat(20_000) + "]".repeat(20_000)), MALFORMED);
        add.chat("nesting 20000 deep inside a field", utf8("{\"model\":\"tiny\",\"user\":" + "[".repeat(20_000)
                + "]".repeat(20_000) + "}"), MALFORMED);
        add.chat("number with 5000 digits", utf8("{\"model\":\"tiny\",\"max_tokens\":" + "9".repeat(5000) + "}"), MALFORMED);

        // model
        add.chatField("model", null, bad("model"));
        add.chatField("model", "null", bad("model"));
        add.chatField("model", "\"\"", bad("model"));
        add.chatField("model", "42", bad("model"));
        add.chatField("model", "[\"tiny\"]", bad("model"));
        add.chatField("model", "{\"id\":\"tiny\"}", bad("model"));
        add.chatField("model", "\"no-such-model\"", NO_MODEL);
        add.chatField("model", "\"../tiny\"", NO_MODEL);
        add.completionField("model", "\"no-such-model\"", NO_MODEL);

        // names that end up in logs, labels and the usage log: at most 256 characters (Identifiers)
        String longName = "n".repeat(257);
        add.chatField("model", "\"" + longName + "\"", bad("model"));
        add.completionField("model", "\"" + longName + "\"", bad("model"));
        add.chatField("user", "\"" + longName + "\"", bad("user"));
        add.chatField("stop", "\"" + longName + "\"", bad("stop"));
        add.chatField("stop", "[\"a\", \"" + longName + "\"]", bad("stop"));
        add.completionField("stop", "\"" + longName + "\"", bad("stop"));
        add.post("embeddings: model of 257 characters", "/v1/embeddings", utf8("{\"model\":\"" + longName
                + "\",\"input\":\"a\"}"), bad("model"));
        add.other("GET", "/v1/models/" + longName, bad("model"));

        // messages and their parts
        add.chatField("messages", null, bad("messages"));
        add.chatField("messages", "\"t5 t6\"", bad("messages"));
        add.chatField("messages", "{\"role\":\"user\",\"content\":\"t5\"}", bad("messages"));
        add.chatField("messages", "[]", bad("messages"));
        add.chatField("messages", "[42]", bad("messages[0]"));
        add.chatField("messages", "[\"t5 t6\"]", bad("messages[0]"));
        add.chatField("messages", "[null]", bad("messages[0]"));
        add.chat("message without role", message("{\"content\":\"t5\"}"), bad("messages[0].role"));
        add.chat("role 42", message("{\"role\":42,\"content\":\"t5\"}"), bad("messages[0].role"));
        add.chat("tool result without a call", message("{\"role\":\"tool\",\"content\":\"t5\",\"tool_call_id\":\"x\"}"),
                bad("messages[0].tool_call_id"));
        add.chat("function result without a call", message("{\"role\":\"function\",\"name\":\"f\",\"content\":\"t5\"}"),
                bad("messages[0].name"));
        add.chat("role wizard", message("{\"role\":\"wizard\",\"content\":\"t5\"}"), bad("messages[0].role"));
        add.chat("role USER (case)", message("{\"role\":\"USER\",\"content\":\"t5\"}"), bad("messages[0].role"));
        add.chat("message without content", message("{\"role\":\"user\"}"), bad("messages[0].content"));
        add.chat("content null", message("{\"role\":\"user\",\"content\":null}"), bad("messages[0].content"));
        add.chat("content 42", message("{\"role\":\"user\",\"content\":42}"), bad("messages[0].content"));
        add.chat("content true", message("{\"role\":\"user\",\"content\":true}"), bad("messages[0].content"));
        add.chat("content object", message("{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"t5\"}}"),
                bad("messages[0].content"));
        add.chat("content part image_url", message("{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
                + "\"image_url\":{\"url\":\"https://example.com/cat.png\"}}]}"), unsupported("messages[0].content[0]"));
        add.chat("content part image_url not base64", message("{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
                + "\"image_url\":{\"url\":\"data:image/png;base64,not base64!\"}}]}"), bad("messages[0].content[0]"));
        add.chat("content part image_url ftp", message("{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
                + "\"image_url\":{\"url\":\"ftp://example.com/cat.png\"}}]}"), bad("messages[0].content[0]"));
        add.chat("content part image_url detail", message("{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
                + "\"image_url\":{\"url\":\"https://example.com/cat.png\",\"detail\":\"max\"}}]}"),
                bad("messages[0].content[0].image_url.detail"));
        add.chat("image in a system message", message("{\"role\":\"system\",\"content\":[{\"type\":\"image_url\","
                + "\"image_url\":{\"url\":\"https://example.com/cat.png\"}}]}"), bad("messages[0].content[0]"));
        add.chat("content part input_audio", message("{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\","
                + "\"input_audio\":{\"data\":\"AAAA\",\"format\":\"wav\"}}]}"), bad("messages[0].content[0]"));
        add.chat("content part without type", message("{\"role\":\"user\",\"content\":[{\"text\":\"t5\"}]}"),
                bad("messages[0].content[0]"));
        add.chat("content part plain string", message("{\"role\":\"user\",\"content\":[\"t5\"]}"), bad("messages[0].content[0]"));
        add.chat("content part text 5", message("{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":5}]}"),
                bad("messages[0].content[0].text"));
        add.chat("assistant tool call without id", message("{\"role\":\"assistant\",\"content\":null,\"tool_calls\":"
                + "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}"),
                bad("messages[0].tool_calls[0].id"));

        // max_tokens and friends
        add.chatField("max_tokens", "\"10\"", bad("max_tokens"));
        add.chatField("max_tokens", "1.5", bad("max_tokens"));
        add.chatField("max_tokens", "true", bad("max_tokens"));
        add.chatField("max_tokens", "[1]", bad("max_tokens"));
        add.chatField("max_tokens", "0", bad("max_tokens"));
        add.chatField("max_tokens", "-1", bad("max_tokens"));
        add.chatField("max_tokens", "-2147483648", bad("max_tokens"));
        add.chatField("max_tokens", "1000000000000", bad("max_tokens"));
        add.chatField("max_tokens", "2147483648", bad("max_tokens"));
        add.chatField("max_tokens", "123456789012345678901234567890", bad("max_tokens"));
        add.chatField("max_tokens", "2147483647", CONTEXT_CHAT);
        add.chatField("max_tokens", "2000", CONTEXT_CHAT);
        add.chatField("max_completion_tokens", "0", bad("max_completion_tokens"));
        add.chatField("max_completion_tokens", "\"5\"", bad("max_completion_tokens"));
        add.chat("messages over the context", with(validChat(), "messages",
                "[{\"role\":\"user\",\"content\":\"" + "t9 ".repeat(1100) + "\"}]"), CONTEXT_CHAT);
        add.completionField("max_tokens", "0", bad("max_tokens"));
        add.completionField("max_tokens", "5000", CONTEXT_PROMPT);
        add.completionField("prompt", "\"" + "t9 ".repeat(1100) + "\"", CONTEXT_PROMPT);

        // sampling fields: wrong types and out of range
        add.chatField("temperature", "\"hot\"", bad("temperature"));
        add.chatField("temperature", "[1]", bad("temperature"));
        add.chatField("temperature", "-0.1", bad("temperature"));
        add.chatField("temperature", "101", bad("temperature"));
        add.chatField("temperature", "1e400", bad("temperature"));
        add.chatField("top_p", "0", bad("top_p"));
        add.chatField("top_p", "1.5", bad("top_p"));
        add.chatField("top_p", "-0.5", bad("top_p"));
        add.chatField("top_p", "\"0.9\"", bad("top_p"));
        add.chatField("n", "0", bad("n"));
        add.chatField("n", "1000", bad("n"));
        add.chatField("n", "-1", bad("n"));
        add.chatField("n", "\"2\"", bad("n"));
        add.chatField("n", "1.5", bad("n"));
        add.chatField("stop", "[\"a\",\"b\",\"c\",\"d\",\"e\"]", bad("stop"));
        add.chatField("stop", "42", bad("stop"));
        add.chatField("stop", "[1, 2]", bad("stop"));
        add.chatField("stop", "[\"a\", null]", bad("stop"));
        add.chatField("stop", "\"\"", bad("stop"));
        add.chatField("stop", "{\"a\":1}", bad("stop"));
        add.chatField("seed", "\"42\"", bad("seed"));
        add.chatField("seed", "1.5", bad("seed"));
        add.chatField("seed", "99999999999999999999", bad("seed"));
        add.chatField("stream", "\"true\"", bad("stream"));
        add.chatField("stream", "1", bad("stream"));
        add.chatField("stream_options", "\"include_usage\"", bad("stream_options"));
        add.chatField("stream_options", "[true]", bad("stream_options"));
        add.chatField("stream_options", "{\"include_usage\":\"yes\"}", bad("stream_options.include_usage"));
        add.completionField("stream_options", "42", bad("stream_options"));
        add.chatField("logprobs", "\"yes\"", bad("logprobs"));
        add.chatField("logprobs", "1", bad("logprobs"));
        add.chatField("top_logprobs", "5", bad("top_logprobs"));
        add.chat("top_logprobs 21", with(validChatWith("logprobs", "true"), "top_logprobs", "21"), bad("top_logprobs"));
        add.chat("top_logprobs -1", with(validChatWith("logprobs", "true"), "top_logprobs", "-1"), bad("top_logprobs"));
        add.chatField("top_logprobs", "\"5\"", bad("top_logprobs"));
        add.chatField("presence_penalty", "2.5", bad("presence_penalty"));
        add.chatField("presence_penalty", "\"x\"", bad("presence_penalty"));
        add.chatField("frequency_penalty", "-3", bad("frequency_penalty"));
        add.chatField("frequency_penalty", "[]", bad("frequency_penalty"));
        add.chatField("user", "42", bad("user"));
        add.chatField("user", "{\"id\":1}", bad("user"));
        add.chatField("top_k", "\"x\"", bad("top_k"));
        add.chatField("top_k", "-2", bad("top_k"));
        add.chatField("min_p", "2", bad("min_p"));
        add.chatField("repetition_penalty", "0", bad("repetition_penalty"));

        // tools: checked (valid ones are served by the local model); response formats: checked
        add.chatField("tools", "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"string\"}}}]",
                bad("tools[0].function.parameters"));
        add.chatField("tools", "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":[]}}]",
                bad("tools[0].function.parameters"));
        add.chatField("tools", "[{\"type\":\"function\",\"function\":{\"name\":\"no spaces\"}}]", bad("tools[0].function.name"));
        add.chatField("tools", "[{\"type\":\"function\",\"function\":{}}]", bad("tools[0].function.name"));
        add.chatField("tools", "[{\"type\":\"retrieval\"}]", bad("tools[0].type"));
        add.chatField("tools", "{\"type\":\"function\"}", bad("tools"));
        add.chatField("tool_choice", "\"required\"", bad("tool_choice"));
        add.chatField("tool_choice", "\"sometimes\"", bad("tool_choice"));
        add.chatField("function_call", "{\"name\":\"f\"}", bad("function_call"));
        add.chatField("parallel_tool_calls", "\"yes\"", bad("parallel_tool_calls"));
        // the local model holds answers to a schema by constrained decoding: a keyword it cannot enforce is named
        add.chatField("response_format", "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":"
                + "{\"type\":\"string\",\"pattern\":\"^a\"}}}", bad("response_format.json_schema.schema"));
        add.chatField("response_format", "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":"
                + "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"multipleOf\":2}}}}}",
                bad("response_format.json_schema.schema"));
        add.chat("a forced call to a tool whose parameters use pattern", with(validChatWith("tool_choice", "\"required\""), "tools",
                "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\","
                + "\"properties\":{\"a\":{\"type\":\"string\",\"pattern\":\"x\"}}}}}]"), bad("tools"));
        add.chatField("response_format", "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\"}}",
                bad("response_format.json_schema.schema"));
        add.chatField("response_format", "{\"type\":\"json_schema\"}", bad("response_format.json_schema"));
        add.chatField("response_format", "{\"type\":\"xml\"}", bad("response_format.type"));
        // fields that would change the answer and are not supported: refused, never silently dropped
        add.chatField("logit_bias", "{\"50\": -100}", bad("logit_bias"));
        add.chatField("audio", "{\"voice\":\"alloy\",\"format\":\"wav\"}", bad("audio"));
        add.chatField("prediction", "{\"type\":\"content\",\"content\":\"x\"}", bad("prediction"));
        add.completionField("logit_bias", "{\"50\": -100}", bad("logit_bias"));
        add.completionField("suffix", "\"t9\"", bad("suffix"));
        add.completionField("best_of", "3", bad("best_of"));

        // completions: the prompt and the legacy logprobs
        add.completionField("prompt", null, bad("prompt"));
        add.completionField("prompt", "\"\"", bad("prompt"));
        add.completionField("prompt", "[]", bad("prompt"));
        add.completionField("prompt", "[\"t5\", \"\"]", bad("prompt")); // a list of prompts is fine, an empty one in it is not
        add.completionField("prompt", "[\"t5\", 6]", bad("prompt"));
        add.completionField("prompt", "42", bad("prompt"));
        ObjectNode manyPrompts = validCompletion().put("n", 16);
        manyPrompts.putArray("prompt").add("t5").add("t6").add("t7").add("t8").add("t9");
        add.completion("5 prompts x n 16, more than the engine queues", with(manyPrompts, "stream", "false"),
                new Expect(400, "invalid_request_error", "unsupported_value", "prompt")); // another target might serve it
        add.completionField("prompt", "[5, 6, 7]", bad("prompt"));
        add.completionField("prompt", "[[5, 6], [7]]", bad("prompt"));
        add.completionField("prompt", "{\"text\":\"t5\"}", bad("prompt"));
        add.completionField("logprobs", "true", bad("logprobs"));
        add.completionField("logprobs", "21", bad("logprobs"));
        add.completionField("logprobs", "-1", bad("logprobs"));
        add.completionField("echo", "\"yes\"", bad("echo"));
        add.completionField("n", "0", bad("n"));
        add.completionField("temperature", "-1", bad("temperature"));
        add.completion("messages instead of prompt", with(validChat(), "max_tokens", "1"), bad("prompt"));
        add.completion("array body", utf8("[" + validCompletion() + "]"), MALFORMED);

        // body size: 64 KiB limit, with Content-Length and chunked
        add.chat("body 64 KiB + 1 with Content-Length", padded(MAX_BODY + 1), TOO_LARGE);
        rows.add(Named.of("chat: body 64 KiB + 1 chunked", new Row("POST", CHAT, padded(MAX_BODY + 1), true, TOO_LARGE)));
        add.chat("body 8 MiB with Content-Length", padded(8 << 20), TOO_LARGE);
        rows.add(Named.of("chat: body 8 MiB chunked", new Row("POST", CHAT, padded(8 << 20), true, TOO_LARGE)));
        add.completion("body 1 MiB with Content-Length", padded(1 << 20), TOO_LARGE);

        // embeddings (the embedded all-minilm-l6-v2: vocabulary of 30522, 256 tokens)
        String embed = "{\"model\":\"all-minilm-l6-v2\",\"input\":";
        add.post("embeddings: token id = vocabulary size", "/v1/embeddings", utf8(embed + "[101,30522,102]}"), bad("input"));
        add.post("embeddings: token id far past the vocabulary", "/v1/embeddings", utf8(embed + "[[101,102],[101,99999999999,102]]}"), bad("input"));
        add.post("embeddings: negative token id", "/v1/embeddings", utf8(embed + "[101,-5,102]}"), bad("input"));
        add.post("embeddings: fractional token id", "/v1/embeddings", utf8(embed + "[101,1.5,102]}"), bad("input"));
        add.post("embeddings: token id past int64", "/v1/embeddings", utf8(embed + "[101,99999999999999999999999,102]}"), bad("input"));
        add.post("embeddings: ids mixed with text", "/v1/embeddings", utf8(embed + "[101,\"x\"]}"), bad("input"));
        add.post("embeddings: empty input", "/v1/embeddings", utf8(embed + "\"\"}"), bad("input"));
        add.post("embeddings: object input", "/v1/embeddings", utf8(embed + "{}}"), bad("input"));
        add.post("embeddings: 257 token ids", "/v1/embeddings", utf8(embed + "[" + "101,".repeat(256) + "102]}"),
                new Expect(400, "invalid_request_error", "context_length_exceeded", "input"));

        // models, unknown paths and methods
        add.other("GET", "/v1/models/no-such-model", NO_MODEL);
        add.other("GET", "/v1/models/%2e%2e", NO_MODEL);
        add.other("GET", "/v1/models/tiny/extra", NO_URL);
        add.other("DELETE", "/v1/models/tiny", NO_URL);
        add.other("POST", "/v1/models", NO_URL);
        add.other("GET", "/v1/chat/completions", NO_URL);
        add.other("PUT", "/v1/completions", NO_URL);
        add.other("GET", "/v1/embeddings", NO_URL);
        add.other("GET", "/v1/nope", NO_URL);
        add.other("GET", "/v2/chat/completions", NO_URL);
        add.other("GET", "/", NO_URL);
        add.other("POST", "/chat/completions", NO_URL);
        return rows.stream();
    }

    static ObjectNode with(ObjectNode base, String field, int value) {
        base.put(field, value);
        return base;
    }

    static ObjectNode validChatWith(String field, String value) {
        ObjectNode n = validChat();
        with(n, field, value);
        return n;
    }

    static String abbreviate(String s) {
        if (s == null) {
            return "(absent)";
        }
        return s.length() > 40 ? s.substring(0, 37) + "..." : s;
    }

    // ------------------------------------------------------------------------------------------ tests

    @Order(1)
    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void badRequestGetsItsStatusAndAnOpenAiError(Row row) throws Exception {
        HttpResponse<String> res = send(row);
        if (Boolean.getBoolean("corpus.print")) { // -Dcorpus.print=true: review every message by eye
            System.out.println("CORPUS " + row.method() + " " + row.path() + " -> " + res.statusCode() + " " + res.body());
        }
        assertError(res, row.expect());
        if (row.expect().equals(NO_URL)) { // the whole path, as the client sent it
            String message = JSON.readTree(res.body()).at("/error/message").asText();
            assertTrue(message.contains(row.method() + " " + row.path() + "."), message);
        }
        assertHealthy();
    }

    @Order(3)
    @Test
    void normalRequestsSucceedAfterTheCorpus() throws Exception {
        HttpResponse<String> chat = post(CHAT, JSON.writeValueAsBytes(validChat()));
        assertEquals(200, chat.statusCode(), chat.body());
        JsonNode body = JSON.readTree(chat.body());
        assertEquals("chat.completion", body.get("object").asText());
        assertEquals(1, body.at("/usage/completion_tokens").asInt());

        HttpResponse<String> completion = post(COMPLETIONS, JSON.writeValueAsBytes(validCompletion()));
        assertEquals(200, completion.statusCode(), completion.body());

        // just under the body limit is fine
        HttpResponse<String> big = post(CHAT, padded(MAX_BODY));
        assertEquals(200, big.statusCode(), big.body());

        // unknown harmless fields are ignored
        ObjectNode extra = validChat();
        extra.put("store", false).put("parallel_tool_calls", true).put("service_tier", "auto").putObject("metadata").put("k", "v");
        extra.put("tools", (String) null);
        extra.putArray("tool_calls_unused");
        HttpResponse<String> ignored = post(CHAT, JSON.writeValueAsBytes(extra));
        assertEquals(200, ignored.statusCode(), ignored.body());

        HttpResponse<String> listed = client.send(HttpRequest.newBuilder(uri("/v1/models")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, listed.statusCode());
        // the embedded all-minilm-l6-v2 is listed too (sorted first)
        assertTrue(listed.body().contains("\"id\":\"" + MODEL + "\""), listed.body());
    }

    /** Requests broken below JSON, at the HTTP framing, sent over a raw socket; (text, expected). */
    static Stream<Named<Object[]>> rawCorpus() {
        String body = validChat().toString();
        String post = "POST " + CHAT + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n";
        List<Named<Object[]>> rows = new ArrayList<>();
        BiConsumer<String, Object[]> add = (name, row) -> rows.add(Named.of(name, row));
        add.accept("Content-Length not a number", new Object[] {post + "Content-Length: abc\r\n\r\n" + body, MALFORMED});
        add.accept("Content-Length negative", new Object[] {post + "Content-Length: -5\r\n\r\n" + body, MALFORMED});
        add.accept("Content-Length -1", new Object[] {post + "Content-Length: -1\r\n\r\n" + body, MALFORMED});
        add.accept("Content-Length beyond long", new Object[] {post + "Content-Length: 99999999999999999999\r\n\r\n" + body,
                MALFORMED});
        add.accept("Content-Length over the limit, no body sent", new Object[] {post + "Content-Length: " + (1L << 40)
                + "\r\n\r\n", TOO_LARGE});
        add.accept("chunk size not hex", new Object[] {post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" + body
                + "\r\n0\r\n\r\n", MALFORMED});
        add.accept("chunk size negative", new Object[] {post + "Transfer-Encoding: chunked\r\n\r\n-10\r\n" + body
                + "\r\n0\r\n\r\n", MALFORMED});
        add.accept("chunk longer than declared", new Object[] {post + "Transfer-Encoding: chunked\r\n\r\n2\r\n" + body
                + "\r\n0\r\n\r\n", MALFORMED});
        add.accept("body shorter than Content-Length", new Object[] {post + "Content-Length: " + (body.length() + 50)
                + "\r\n\r\n" + body, MALFORMED});
        add.accept("percent-encoding broken", new Object[] {"GET /v1/models/%zz HTTP/1.1\r\nHost: localhost\r\n\r\n", MALFORMED});
        add.accept("header of 20 KB", new Object[] {"GET /v1/models HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "a".repeat(20_000)
                + "\r\n\r\n", MALFORMED});
        add.accept("URI of 10 KB", new Object[] {"GET /v1/" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: localhost\r\n\r\n",
                new Expect(414, "invalid_request_error", null, null)});
        add.accept("HTTP/9.9", new Object[] {"GET /v1/models HTTP/9.9\r\nHost: localhost\r\n\r\n", MALFORMED});
        add.accept("no Host header", new Object[] {"GET /v1/models HTTP/1.1\r\n\r\n", MALFORMED});
        add.accept("unknown method BREW", new Object[] {"BREW /v1/models HTTP/1.1\r\nHost: localhost\r\n\r\n", NO_URL});
        add.accept("Content-Encoding br", new Object[] {post + "Content-Encoding: br\r\nContent-Length: " + body.length()
                + "\r\n\r\n" + body, MALFORMED});
        add.accept("Content-Encoding gzip, body not gzip", new Object[] {post + "Content-Encoding: gzip\r\nContent-Length: "
                + body.length() + "\r\n\r\n" + body, MALFORMED});
        return rows.stream();
    }

    @Order(2)
    @ParameterizedTest(name = "{0}")
    @MethodSource("rawCorpus")
    void brokenHttpGetsAnOpenAiError(Object[] row) throws Exception {
        RawResponse res = raw((String) row[0]);
        if (Boolean.getBoolean("corpus.print")) {
            System.out.println("CORPUS raw -> " + res.status() + " " + res.headers().replace("\r\n", " | ") + " " + res.body());
        }
        Expect expect = (Expect) row[1];
        assertEquals(expect.status(), res.status(), res.headers() + res.body());
        assertTrue(res.headers().toLowerCase(Locale.ROOT).contains("content-type: application/json"), res.headers());
        JsonNode error = JSON.readTree(res.body()).get("error");
        assertTrue(error != null && !error.path("message").asText().isBlank(), res.body());
        assertEquals(expect.type(), error.get("type").asText(), res.body());
        assertEquals(expect.code(), error.get("code").isNull() ? null : error.get("code").asText(), res.body());
        assertFalse(LEAK.matcher(res.body()).find(), "Java internals in the body: " + res.body());
        assertHealthy();
    }

    record RawResponse(int status, String headers, String body) {}

    /** Sends bytes as they are and reads one response (status line, headers, Content-Length body). */
    static RawResponse raw(String request) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            socket.shutdownOutput(); // no more bytes: a short body ends here instead of waiting for a timeout
            var in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    fail("connection closed before a full response; got: " + head);
                }
                head.append((char) b);
            }
            String headers = head.toString();
            int status = Integer.parseInt(headers.substring(9, 12));
            var length = Pattern.compile("(?im)^content-length:\\s*(\\d+)").matcher(headers);
            byte[] entity = new byte[length.find() ? Integer.parseInt(length.group(1)) : 0];
            in.readFully(entity);
            if (headers.toLowerCase(Locale.ROOT).contains("connection: close")) {
                // and it does close, at once: nothing of the unread body is taken for a next request
                long t0 = System.nanoTime();
                assertEquals(-1, in.read(), "nothing after the response");
                assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "closed without waiting for the client");
            }
            return new RawResponse(status, headers, new String(entity, StandardCharsets.UTF_8));
        }
    }

    /** A lone surrogate is valid JSON but no valid text: either served or refused, never a 500 or a dead server. */
    @Order(4)
    @Test
    void loneSurrogateIsServedOrRefused() throws Exception {
        byte[] body = message("{\"role\":\"user\",\"content\":\"t5 \\ud800 t6\"}");
        HttpResponse<String> res = post(CHAT, body);
        if (Boolean.getBoolean("corpus.print")) {
            System.out.println("CORPUS lone surrogate -> " + res.statusCode() + " " + res.body());
        }
        if (res.statusCode() != 200) {
            assertError(res, bad("messages[0].content"));
        }
        HttpResponse<String> completion = post(COMPLETIONS, with(validCompletion(), "prompt", "\"t5 \\udfff\""));
        if (completion.statusCode() != 200) {
            assertError(completion, bad("prompt"));
        }
        assertHealthy();
    }

    /**
     * One running slot and one waiting: a burst of long generations fills both, the rest are refused at
     * once with 503, an integer Retry-After and OpenAI's error body; afterwards the server serves again.
     */
    @Order(5)
    @Test
    void queueFullAnswers503WithRetryAfter() throws Exception {
        var registry = GatewayServer.newRegistry();
        LocalModels small = new LocalModels();
        small.loadAll(store, DeviceChoice.CPU, EngineConfig.defaults().withMaxRunning(1).withMaxWaiting(1), registry);
        try (GatewayServer busy = GatewayServer.builder(small, registry).maxBodyBytes(MAX_BODY).grace(Duration.ofSeconds(5)).start()) {
            // a prompt whose greedy continuation runs to the length limit (the random model may emit eos early)
            byte[] longOne = null;
            long aloneMillis = 0;
            for (int k = 10; k < 200 && longOne == null; k += 7) {
                ObjectNode greedy = with(validChat(), "max_tokens", 1000);
                greedy.put("temperature", 0);
                ((ObjectNode) greedy.at("/messages/0")).put("content", "t" + k + " t" + (k + 1));
                byte[] body = JSON.writeValueAsBytes(greedy);
                long t0 = System.nanoTime();
                HttpResponse<String> alone = post(busy.port(), CHAT, body);
                assertEquals(200, alone.statusCode(), alone.body());
                if (JSON.readTree(alone.body()).at("/choices/0/finish_reason").asText().equals("length")) {
                    longOne = body;
                    aloneMillis = (System.nanoTime() - t0) / 1_000_000;
                }
            }
            assertTrue(longOne != null, "no prompt runs greedy to 1000 tokens");
            byte[] longBody = longOne;
            System.out.println("queue-full test: one 1000-token generation alone takes " + aloneMillis + " ms");

            int burst = 8;
            List<HttpResponse<String>> responses = new ArrayList<>();
            try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                var start = new CountDownLatch(1);
                List<Future<HttpResponse<String>>> futures = new ArrayList<>();
                for (int i = 0; i < burst; i++) {
                    futures.add(pool.submit(() -> {
                        start.await();
                        return post(busy.port(), CHAT, longBody);
                    }));
                }
                start.countDown();
                for (var f : futures) {
                    responses.add(f.get());
                }
            }
            int ok = 0;
            int refused = 0;
            for (HttpResponse<String> r : responses) {
                if (r.statusCode() == 200) {
                    ok++;
                    continue;
                }
                refused++;
                assertError(r, new Expect(503, "server_error", "server_overloaded", null));
                String retryAfter = r.headers().firstValue("Retry-After").orElse("");
                assertTrue(retryAfter.matches("[1-9][0-9]*"), "Retry-After in whole seconds: '" + retryAfter + "'");
            }
            assertTrue(ok >= 1 && ok <= 2, "one running and at most one waiting were served: " + ok);
            assertEquals(burst - ok, refused);

            HttpResponse<String> after = post(busy.port(), CHAT, JSON.writeValueAsBytes(validChat()));
            assertEquals(200, after.statusCode(), after.body());
        }
    }

    /** While the server drains (SIGTERM), new generations are refused with a 503, not a 500. */
    @Order(6)
    @Test
    void drainingEngineAnswers503() throws Exception {
        var registry = GatewayServer.newRegistry();
        LocalModels draining = new LocalModels();
        draining.loadAll(store, DeviceChoice.CPU, EngineConfig.defaults(), registry);
        try (GatewayServer stopping = GatewayServer.builder(draining, registry).maxBodyBytes(MAX_BODY).grace(Duration.ofSeconds(1)).start()) {
            draining.get(MODEL).orElseThrow().engine().shutdown(); // what drain() does first
            HttpResponse<String> res = post(stopping.port(), CHAT, JSON.writeValueAsBytes(validChat()));
            assertError(res, new Expect(503, "server_error", "server_shutting_down", null));
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    static HttpResponse<String> post(String path, byte[] body) throws Exception {
        return post(server.port(), path, body);
    }

    static HttpResponse<String> post(int port, String path, byte[] body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> send(Row row) throws Exception {
        HttpRequest.BodyPublisher publisher;
        if (row.body() == null) {
            publisher = HttpRequest.BodyPublishers.noBody();
        } else if (row.chunked()) { // unknown length: java.net.http sends Transfer-Encoding: chunked
            publisher = HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(row.body()));
        } else {
            publisher = HttpRequest.BodyPublishers.ofByteArray(row.body());
        }
        HttpRequest request = HttpRequest.newBuilder(uri(row.path())).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").method(row.method(), publisher).build();
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    static void assertError(HttpResponse<String> res, Expect expect) throws Exception {
        String body = res.body();
        assertEquals(expect.status(), res.statusCode(), body);
        assertTrue(res.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
                "content type: " + res.headers().firstValue("Content-Type"));
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (Exception e) {
            fail("not JSON: " + body);
            return;
        }
        assertEquals(1, root.size(), "only 'error' at the top: " + body);
        JsonNode error = root.get("error");
        assertTrue(error != null && error.isObject(), body);
        for (String field : List.of("message", "type", "param", "code")) {
            assertTrue(error.has(field), "error." + field + " present: " + body);
        }
        assertTrue(error.get("message").isTextual() && !error.get("message").asText().isBlank(), body);
        assertTrue(error.get("message").asText().length() < 1000, "short message: " + body);
        assertEquals(expect.type(), error.get("type").asText(), body);
        assertEquals(expect.code(), error.get("code").isNull() ? null : error.get("code").asText(), body);
        assertEquals(expect.param(), error.get("param").isNull() ? null : error.get("param").asText(), body);
        assertFalse(LEAK.matcher(body).find(), "Java internals in the body: " + body);
    }

    static void assertHealthy() throws Exception {
        HttpResponse<String> health = client.send(HttpRequest.newBuilder(uri("/health/ready")).timeout(Duration.ofSeconds(10))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode(), health.body());
    }
}
