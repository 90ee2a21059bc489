package dev.gatehouse.gateway.api.openai;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.BadRequestException;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /v1/embeddings with the embedded all-minilm-l6-v2, through the official OpenAI Java SDK. */
class EmbeddingsApiTest {
    static final String MODEL = "all-minilm-l6-v2";

    @TempDir
    static Path dir;
    static TestServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(dir);
        client = OpenAIOkHttpClient.builder().baseUrl(server.v1()).apiKey("unused").build();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static List<List<Float>> embed(List<String> texts) {
        CreateEmbeddingResponse r = client.embeddings().create(EmbeddingCreateParams.builder()
                .model(MODEL).inputOfArrayOfStrings(texts).build());
        assertEquals(texts.size(), r.data().size());
        assertTrue(r.usage().promptTokens() > texts.size() * 2L, "usage counts [CLS], [SEP] and the words");
        return r.data().stream().map(e -> e.embedding()).toList();
    }

    @Test
    void paraphrasesRankAboveUnrelatedSentencesWithUnit384Vectors() {
        List<List<Float>> v = embed(List.of("A man is eating food.", "A man is eating a piece of bread.",
                "A man is riding a horse.", "A monkey is playing drums."));
        for (List<Float> e : v) {
            assertEquals(384, e.size());
            assertEquals(1.0, Math.sqrt(dot(e, e)), 1e-4);
        }
        assertTrue(dot(v.get(0), v.get(1)) > dot(v.get(0), v.get(2)));
        assertTrue(dot(v.get(0), v.get(1)) > dot(v.get(0), v.get(3)));
    }

    @Test
    void base64EqualsFloat() {
        // the SDK asks for base64 by default and decodes it; compare with an explicit float request
        CreateEmbeddingResponse b64 = client.embeddings().create(EmbeddingCreateParams.builder()
                .model(MODEL).input("The new movie is awesome").build());
        CreateEmbeddingResponse floats = client.embeddings().create(EmbeddingCreateParams.builder()
                .model(MODEL).input("The new movie is awesome").encodingFormat(EmbeddingCreateParams.EncodingFormat.FLOAT).build());
        assertEquals(floats.data().get(0).embedding(), b64.data().get(0).embedding());
    }

    @Test
    void listsTheModelAndRejectsMisuseInOpenAisShape() throws Exception {
        assertTrue(server.get("/v1/models").body().contains("\"" + MODEL + "\""));
        assertThrows(BadRequestException.class, () -> client.embeddings().create(EmbeddingCreateParams.builder()
                .model(TestServer.MODEL).input("hello").build()), "a chat model gives no embeddings");
        HttpResponse<String> chat = server.post("/v1/chat/completions",
                "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(400, chat.statusCode(), chat.body());
        assertEquals(400, server.post("/v1/embeddings", "{\"model\":\"" + MODEL + "\",\"input\":[]}").statusCode());
        HttpResponse<String> tooLong = server.post("/v1/embeddings", "{\"model\":\"" + MODEL + "\",\"input\":["
                + "1,".repeat(300) + "1]}");
        assertEquals(400, tooLong.statusCode());
        assertTrue(tooLong.body().contains("context_length_exceeded"), tooLong.body());
        assertEquals(400, server.post("/v1/embeddings", "{\"model\":\"" + MODEL + "\",\"input\":\"x\",\"dimensions\":128}").statusCode());
        HttpResponse<String> tokens = server.post("/v1/embeddings", "{\"model\":\"" + MODEL + "\",\"input\":[[101,2023,102],[101,102]]}");
        assertEquals(200, tokens.statusCode(), tokens.body());
        assertTrue(tokens.body().contains("\"prompt_tokens\":5"), tokens.body());
    }

    @Test
    void metricsCountRequestsInputsLatencyAndBatchSizesPerModel() throws Exception {
        embed(List.of("one sentence", "and another"));
        String metrics = server.get("/metrics").body();
        for (String meter : List.of("gatehouse_embedding_requests_total", "gatehouse_embedding_inputs_total",
                "gatehouse_embedding_latency_seconds_count", "gatehouse_embedding_batch_size_count")) {
            String line = metrics.lines().filter(l -> l.startsWith(meter + "{") && l.contains("model=\"" + MODEL + "\""))
                    .findFirst().orElseThrow(() -> new AssertionError(meter + " missing from /metrics:\n" + metrics));
            assertTrue(Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)) >= 1, line);
        }
    }

    @Test
    void tokenIdsOutsideTheVocabularyAreA400NamingTheIdAndTheVocabularySize() throws Exception {
        for (String input : List.of("[101,30522,102]", "[[101,102],[101,99999,102]]", "[101,-1,102]")) {
            HttpResponse<String> r = server.post("/v1/embeddings", "{\"model\":\"" + MODEL + "\",\"input\":" + input + "}");
            assertEquals(400, r.statusCode(), r.body());
            var error = OpenAiJson.MAPPER.readTree(r.body()).path("error");
            assertEquals("invalid_request_error", error.path("type").asText(), r.body());
            assertEquals("input", error.path("param").asText(), r.body());
            String bad = input.contains("30522") ? "30522" : input.contains("99999") ? "99999" : "-1";
            assertTrue(error.path("message").asText().contains("Token id " + bad + " "), r.body());
            assertTrue(error.path("message").asText().contains("30522 tokens"), r.body());
        }
        HttpResponse<String> last = server.post("/v1/embeddings", "{\"model\":\"" + MODEL + "\",\"input\":[101,30521,102]}");
        assertEquals(200, last.statusCode(), "the last id of the vocabulary is valid: " + last.body());
    }

    private static double dot(List<Float> a, List<Float> b) {
        double s = 0;
        for (int i = 0; i < a.size(); i++) s += a.get(i) * b.get(i);
        return s;
    }
}
