package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.ResponseFormatJsonObject;
import com.openai.models.ResponseFormatText;
import com.openai.models.models.Model;
import dev.gatehouse.serving.text.ChatMessage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official OpenAI Java SDK, unchanged, against Gatehouse: if it parses every response (strict
 * validation on) and surfaces errors as its own exception types, users' code works.
 */
class OpenAiSdkTest {
    private static final String PROMPT = "t20 t21 t22";

    @TempDir
    static Path dir;
    static TestServer server;
    static OpenAIClient client;
    static OpenAIClient lenient;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(dir);
        client = OpenAIOkHttpClient.builder()
                .baseUrl(server.v1())
                .apiKey("any-key")
                .maxRetries(0)
                .timeout(Duration.ofSeconds(60))
                .responseValidation(true) // every field the SDK knows must have the type it expects
                .build();
        lenient = client.withOptions(o -> o.responseValidation(false));
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static ChatCompletionCreateParams.Builder chat(long maxTokens) {
        return ChatCompletionCreateParams.builder().model(TestServer.MODEL).addUserMessage(PROMPT)
                .maxCompletionTokens(maxTokens).temperature(0.0);
    }

    /** The non-streaming answer's text: content is present and a string. */
    private static String content(ChatCompletion.Choice choice) {
        return choice.message().content().orElseThrow();
    }

    private static String streamedText(ChatCompletionCreateParams params) {
        StringBuilder text = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(c -> c.choices().forEach(ch -> ch.delta().content().ifPresent(text::append)));
        }
        return text.toString();
    }

    @Test
    void chatCompletion() {
        ChatCompletion c = client.chat().completions().create(chat(5).build());
        assertTrue(c.id().startsWith("chatcmpl-"), c.id());
        assertEquals(TestServer.MODEL, c.model());
        assertEquals(1, c.choices().size());
        ChatCompletion.Choice choice = c.choices().get(0);
        assertEquals(0, choice.index());
        assertFalse(content(choice).isEmpty());
        assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, choice.finishReason());
        assertTrue(choice.logprobs().isEmpty(), "no logprobs unless asked for");

        CompletionUsage usage = c.usage().orElseThrow();
        int promptTokens = server.chatPromptTokens(List.of(new ChatMessage("user", PROMPT)));
        // <s> <|im_start|> user t20 t21 t22 <|im_end|> <|im_start|> assistant
        assertEquals(9, promptTokens);
        assertEquals(promptTokens, usage.promptTokens());
        assertEquals(5, usage.completionTokens());
        assertEquals(promptTokens + 5, usage.totalTokens());
    }

    @Test
    void systemAndDeveloperMessagesAndContentParts() {
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model(TestServer.MODEL).addSystemMessage("t7").addDeveloperMessage("t8").addUserMessage(PROMPT)
                .addAssistantMessage("t30")
                .addUserMessageOfArrayOfContentParts(List.of(
                        ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text("t31 ").build()),
                        ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text("t32").build())))
                .maxCompletionTokens(3).temperature(0.0).build());
        // developer is the system role's newer name; text parts join into one content string
        List<ChatMessage> messages = List.of(new ChatMessage("system", "t7"), new ChatMessage("system", "t8"),
                new ChatMessage("user", PROMPT), new ChatMessage("assistant", "t30"), new ChatMessage("user", "t31 t32"));
        assertEquals(server.chatPromptTokens(messages), c.usage().orElseThrow().promptTokens());
    }

    @Test
    void streamingEqualsNonStreamingGreedy() {
        String whole = content(client.chat().completions().create(chat(8).build()).choices().get(0));

        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(chat(8)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            stream.stream().forEach(chunks::add);
        }
        assertFalse(chunks.isEmpty());
        String id = chunks.get(0).id();
        assertTrue(id.startsWith("chatcmpl-"), id);
        chunks.forEach(c -> assertEquals(id, c.id(), "one id for the whole stream"));

        List<ChatCompletionChunk> withChoices = chunks.stream().filter(c -> !c.choices().isEmpty()).toList();
        assertEquals(ChatCompletionChunk.Choice.Delta.Role.ASSISTANT,
                withChoices.get(0).choices().get(0).delta().role().orElseThrow(), "the first delta carries the role");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < withChoices.size(); i++) {
            ChatCompletionChunk.Choice ch = withChoices.get(i).choices().get(0);
            ch.delta().content().ifPresent(text::append);
            boolean last = i == withChoices.size() - 1;
            assertEquals(last, ch.finishReason().isPresent(), "only the last choice chunk has a finish_reason");
        }
        assertEquals(whole, text.toString());
        assertEquals(ChatCompletionChunk.Choice.FinishReason.LENGTH,
                withChoices.get(withChoices.size() - 1).choices().get(0).finishReason().orElseThrow());

        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertTrue(last.choices().isEmpty(), "the usage chunk has no choices");
        CompletionUsage usage = last.usage().orElseThrow();
        assertEquals(server.chatPromptTokens(List.of(new ChatMessage("user", PROMPT))), usage.promptTokens());
        assertEquals(8, usage.completionTokens());
        withChoices.forEach(c -> assertTrue(c.usage().isEmpty(), "usage only in the last chunk"));
    }

    @Test
    void streamingWithoutIncludeUsageHasNoUsageChunk() {
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(chat(3).build())) {
            List<ChatCompletionChunk> chunks = stream.stream().toList();
            chunks.forEach(c -> assertTrue(c.usage().isEmpty()));
            chunks.forEach(c -> assertEquals(1, c.choices().size()));
        }
    }

    @Test
    void stopSequence() {
        String whole = content(client.chat().completions().create(chat(8).build()).choices().get(0));
        String[] words = whole.trim().split("\\s+");
        assertTrue(words.length >= 4, "the greedy text has enough words to stop in: " + whole);
        String stop = words[2];
        String expected = whole.substring(0, whole.indexOf(stop));

        ChatCompletion c = client.chat().completions().create(chat(8).stop(stop).build());
        assertEquals(expected, content(c.choices().get(0)));
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, c.choices().get(0).finishReason());

        ChatCompletion list = client.chat().completions().create(chat(8).stopOfStrings(List.of("no-such-text", stop)).build());
        assertEquals(expected, content(list.choices().get(0)));

        assertEquals(expected, streamedText(chat(8).stop(stop).build()), "streaming holds the stop text back too");
    }

    @Test
    void twoChoices() {
        ChatCompletion c = client.chat().completions().create(chat(4).n(2).temperature(1.0).seed(11).build());
        assertEquals(2, c.choices().size());
        for (int i = 0; i < 2; i++) {
            assertEquals(i, c.choices().get(i).index());
            assertFalse(content(c.choices().get(i)).isEmpty());
            assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, c.choices().get(i).finishReason());
        }
        CompletionUsage usage = c.usage().orElseThrow();
        assertEquals(server.chatPromptTokens(List.of(new ChatMessage("user", PROMPT))), usage.promptTokens(),
                "the prompt counts once");
        assertEquals(8, usage.completionTokens(), "both choices' tokens count");

        // Streamed, the two choices interleave; each has its own role delta and its own finish.
        String[] texts = {"", ""};
        int[] roles = new int[2];
        int[] finishes = new int[2];
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions()
                .createStreaming(chat(4).n(2).temperature(1.0).seed(11).build())) {
            stream.stream().flatMap(ch -> ch.choices().stream()).forEach(ch -> {
                int i = (int) ch.index();
                texts[i] += ch.delta().content().orElse("");
                roles[i] += ch.delta().role().isPresent() ? 1 : 0;
                finishes[i] += ch.finishReason().isPresent() ? 1 : 0;
            });
        }
        for (int i = 0; i < 2; i++) {
            assertEquals(content(c.choices().get(i)), texts[i], "seeded choice " + i + " repeats when streamed");
            assertEquals(1, roles[i]);
            assertEquals(1, finishes[i]);
        }
    }

    @Test
    void seedRepeats() {
        ChatCompletionCreateParams seeded = chat(12).temperature(1.0).seed(1234).build();
        String first = content(client.chat().completions().create(seeded).choices().get(0));
        String second = content(client.chat().completions().create(seeded).choices().get(0));
        assertEquals(first, second);
        assertEquals(first, streamedText(seeded));

        Set<String> bySeed = new HashSet<>();
        for (long seed = 1; seed <= 6; seed++) {
            bySeed.add(content(client.chat().completions().create(chat(12).temperature(1.5).seed(seed).build())
                    .choices().get(0)));
        }
        assertTrue(bySeed.size() > 1, "different seeds sample differently: " + bySeed);
    }

    @Test
    void logprobs() {
        ChatCompletion c = client.chat().completions().create(chat(4).logprobs(true).topLogprobs(3).build());
        List<ChatCompletionTokenLogprob> tokens = c.choices().get(0).logprobs().orElseThrow().content().orElseThrow();
        assertEquals(4, tokens.size());
        StringBuilder joined = new StringBuilder();
        for (ChatCompletionTokenLogprob t : tokens) {
            assertTrue(t.logprob() <= 0, "a log probability: " + t.logprob());
            assertEquals(3, t.topLogprobs().size());
            // greedy: the chosen token is the most likely one
            assertEquals(t.topLogprobs().get(0).token(), t.token());
            assertEquals(t.topLogprobs().get(0).logprob(), t.logprob(), 1e-6);
            for (int i = 1; i < 3; i++) {
                assertTrue(t.topLogprobs().get(i).logprob() <= t.topLogprobs().get(i - 1).logprob(), "sorted");
            }
            List<Long> bytes = t.bytes().orElseThrow();
            assertEquals(t.token().getBytes(java.nio.charset.StandardCharsets.UTF_8).length, bytes.size());
            joined.append(t.token()).append(' ');
        }
        assertEquals(joined.toString().trim(), content(c.choices().get(0)).trim(),
                "the tokens spell the content (WordLevel tokens joined by spaces)");

        // Streamed, every content chunk carries its token's logprobs.
        List<ChatCompletionTokenLogprob> streamed = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions()
                .createStreaming(chat(4).logprobs(true).topLogprobs(3).build())) {
            stream.stream().flatMap(ch -> ch.choices().stream())
                    .forEach(ch -> ch.logprobs().flatMap(l -> l.content()).ifPresent(streamed::addAll));
        }
        assertEquals(tokens.stream().map(ChatCompletionTokenLogprob::token).toList(),
                streamed.stream().map(ChatCompletionTokenLogprob::token).toList());
    }

    @Test
    void legacyCompletion() {
        CompletionCreateParams params = CompletionCreateParams.builder().model(TestServer.MODEL).prompt(PROMPT)
                .maxTokens(5).temperature(0.0).build();
        Completion c = client.completions().create(params);
        assertTrue(c.id().startsWith("cmpl-"), c.id());
        assertEquals(TestServer.MODEL, c.model());
        CompletionChoice choice = c.choices().get(0);
        assertFalse(choice.text().isEmpty());
        assertEquals(CompletionChoice.FinishReason.LENGTH, choice.finishReason());
        CompletionUsage usage = c.usage().orElseThrow();
        assertEquals(server.completionPromptTokens(PROMPT), usage.promptTokens());
        assertEquals(4, usage.promptTokens(), "<s> t20 t21 t22");
        assertEquals(5, usage.completionTokens());

        Completion echoed = client.completions().create(params.toBuilder().echo(true).build());
        assertEquals(PROMPT + choice.text(), echoed.choices().get(0).text());

        StringBuilder streamed = new StringBuilder();
        List<CompletionChoice.FinishReason> finishes = new ArrayList<>();
        List<CompletionUsage> usages = new ArrayList<>();
        // The SDK types a legacy chunk as a Completion, whose finish_reason its strict validation requires;
        // OpenAI itself (and vLLM) send finish_reason null until the last chunk, as Gatehouse does. So this
        // stream is read without responseValidation, the way the SDK reads by default.
        try (StreamResponse<Completion> stream = lenient.completions().createStreaming(params.toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            stream.stream().forEach(chunk -> {
                chunk.usage().ifPresent(usages::add);
                chunk.choices().forEach(ch -> {
                    streamed.append(ch.text());
                    ch._finishReason().asKnown().ifPresent(finishes::add); // null until the last chunk
                });
            });
        }
        assertEquals(choice.text(), streamed.toString());
        assertEquals(List.of(CompletionChoice.FinishReason.LENGTH), finishes);
        assertEquals(1, usages.size());
        assertEquals(5, usages.get(0).completionTokens());
    }

    @Test
    void legacyCompletionLogprobs() {
        Completion c = client.completions().create(CompletionCreateParams.builder().model(TestServer.MODEL)
                .prompt(PROMPT).maxTokens(3).temperature(0.0).logprobs(2).build());
        CompletionChoice.Logprobs lp = c.choices().get(0).logprobs().orElseThrow();
        List<String> tokens = lp.tokens().orElseThrow();
        assertEquals(3, tokens.size());
        assertEquals(3, lp.tokenLogprobs().orElseThrow().size());
        assertEquals(3, lp.textOffset().orElseThrow().size());
        List<CompletionChoice.Logprobs.TopLogprob> top = lp.topLogprobs().orElseThrow();
        assertEquals(3, top.size());
        for (int i = 0; i < 3; i++) {
            Map<String, JsonValue> alternatives = top.get(i)._additionalProperties();
            assertEquals(2, alternatives.size(), "two alternatives: " + alternatives);
            assertTrue(alternatives.containsKey(tokens.get(i)), "greedy: the chosen token is among the top");
        }
        assertOffsetsIndexText(c.choices().get(0).text(), tokens, lp.textOffset().orElseThrow(), 0);

        // With echo the text starts with the prompt, and the offsets index that text, streamed or not.
        CompletionCreateParams echo = CompletionCreateParams.builder().model(TestServer.MODEL).prompt(PROMPT)
                .maxTokens(3).temperature(0.0).logprobs(1).echo(true).build();
        CompletionChoice echoed = client.completions().create(echo).choices().get(0);
        List<Long> offsets = echoed.logprobs().orElseThrow().textOffset().orElseThrow();
        assertOffsetsIndexText(echoed.text(), tokens, offsets, PROMPT.length());

        List<Long> streamedOffsets = new ArrayList<>();
        StringBuilder streamedText = new StringBuilder();
        try (StreamResponse<Completion> stream = lenient.completions().createStreaming(echo)) {
            stream.stream().flatMap(chunk -> chunk.choices().stream()).forEach(ch -> {
                streamedText.append(ch.text());
                ch.logprobs().flatMap(CompletionChoice.Logprobs::textOffset).ifPresent(streamedOffsets::addAll);
            });
        }
        assertEquals(echoed.text(), streamedText.toString());
        assertEquals(offsets, streamedOffsets);
    }

    /**
     * A list of prompts gets n choices per prompt, numbered as OpenAI does (prompt i, sample j is
     * choice i * n + j), each what its prompt gives alone; usage adds up over all of them.
     */
    @Test
    void legacyCompletionOfSeveralPrompts() {
        List<String> prompts = List.of(PROMPT, "t5 t6", "t30");
        int n = 2;
        CompletionCreateParams params = CompletionCreateParams.builder().model(TestServer.MODEL)
                .promptOfArrayOfStrings(prompts).n(n).maxTokens(4).temperature(0.0).build();
        Completion c = client.completions().create(params);
        assertEquals(prompts.size() * n, c.choices().size());
        int promptTokens = 0;
        long completionTokens = 0;
        List<String> expected = new ArrayList<>(); // by choice index
        for (int i = 0; i < prompts.size(); i++) {
            Completion alone = client.completions().create(params.toBuilder().prompt(prompts.get(i)).n(1).build());
            promptTokens += server.completionPromptTokens(prompts.get(i));
            completionTokens += n * alone.usage().orElseThrow().completionTokens();
            for (int j = 0; j < n; j++) {
                CompletionChoice choice = c.choices().get(i * n + j);
                assertEquals(i * n + j, choice.index());
                assertEquals(alone.choices().get(0).text(), choice.text(), "choice " + (i * n + j) + " answers prompt " + i);
                assertEquals(alone.choices().get(0).finishReason(), choice.finishReason());
                expected.add(choice.text());
            }
        }
        CompletionUsage usage = c.usage().orElseThrow();
        assertEquals(promptTokens, usage.promptTokens(), "each prompt counted once, whatever n");
        assertEquals(completionTokens, usage.completionTokens());

        Completion echoed = client.completions().create(params.toBuilder().echo(true).build());
        for (int k = 0; k < echoed.choices().size(); k++) {
            assertEquals(prompts.get(k / n) + expected.get(k), echoed.choices().get(k).text(), "echo of its own prompt");
        }

        Map<Long, StringBuilder> streamed = new TreeMap<>();
        Map<Long, CompletionChoice.FinishReason> finishes = new TreeMap<>();
        List<CompletionUsage> usages = new ArrayList<>();
        try (StreamResponse<Completion> stream = lenient.completions().createStreaming(params.toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            stream.stream().forEach(chunk -> {
                chunk.usage().ifPresent(usages::add);
                chunk.choices().forEach(ch -> {
                    streamed.computeIfAbsent(ch.index(), k -> new StringBuilder()).append(ch.text());
                    ch._finishReason().asKnown().ifPresent(f -> assertNull(finishes.put(ch.index(), f), "one finish each"));
                });
            });
        }
        assertEquals(expected, streamed.values().stream().map(StringBuilder::toString).toList());
        assertEquals(prompts.size() * n, finishes.size());
        assertEquals(List.of(usage), usages);
    }

    /** The prompts of one request are separate sequences: the engine runs them side by side, not one after another. */
    @Test
    void severalPromptsRunTogether() throws Exception {
        List<String> prompts = List.of("t40 t41", "t42", "t43 t44 t45");
        int mostRunning = 0;
        try (StreamResponse<Completion> stream = lenient.completions().createStreaming(CompletionCreateParams.builder()
                .model(TestServer.MODEL).promptOfArrayOfStrings(prompts).maxTokens(64).temperature(0.0).build())) {
            for (var it = stream.stream().iterator(); it.hasNext(); it.next()) {
                mostRunning = Math.max(mostRunning, server.engine().capacity().running());
            }
        }
        assertEquals(prompts.size(), mostRunning);
    }

    /** Each token's text_offset is where its text (after any separating space) starts in the choice's text. */
    private static void assertOffsetsIndexText(String text, List<String> tokens, List<Long> offsets, int from) {
        assertEquals(tokens.size(), offsets.size());
        long previous = from - 1;
        for (int i = 0; i < tokens.size(); i++) {
            int offset = Math.toIntExact(offsets.get(i));
            assertTrue(offset > previous, "offsets increase from " + from + ": " + offsets);
            assertTrue(text.substring(offset).stripLeading().startsWith(tokens.get(i)),
                    "token " + tokens.get(i) + " at " + offset + " in '" + text + "'");
            previous = offset;
        }
    }

    @Test
    void models() {
        List<Model> models = client.models().list().data();
        // the chat model and the embedded default embedding model
        assertEquals(List.of("all-minilm-l6-v2", TestServer.MODEL), models.stream().map(Model::id).toList());
        assertEquals("gatehouse", models.get(0).ownedBy());

        Model m = client.models().retrieve(TestServer.MODEL);
        assertEquals(TestServer.MODEL, m.id());

        NotFoundException e = assertThrows(NotFoundException.class, () -> client.models().retrieve("no-such-model"));
        assertEquals(404, e.statusCode());
        assertEquals("model_not_found", e.code().orElseThrow());
    }

    @Test
    void unknownModelIsNotFound() {
        ChatCompletionCreateParams params = chat(3).model("no-such-model").build();
        NotFoundException e = assertThrows(NotFoundException.class, () -> client.chat().completions().create(params));
        assertEquals(404, e.statusCode());
        assertEquals("model_not_found", e.code().orElseThrow());
        assertEquals("model", e.param().orElseThrow());
        assertEquals("invalid_request_error", e.type().orElseThrow());

        NotFoundException streamed = assertThrows(NotFoundException.class, () -> {
            try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params)) {
                s.stream().forEach(c -> {});
            }
        });
        assertEquals("model_not_found", streamed.code().orElseThrow());
    }

    @Test
    void tooLongPromptIsContextLengthExceeded() {
        String longPrompt = "t9 ".repeat(server.engine().maxModelLength() + 10).trim();
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(TestServer.MODEL)
                .addUserMessage(longPrompt).maxCompletionTokens(4).build();
        BadRequestException e = assertThrows(BadRequestException.class, () -> client.chat().completions().create(params));
        assertEquals(400, e.statusCode());
        assertEquals("context_length_exceeded", e.code().orElseThrow());
        assertEquals("invalid_request_error", e.type().orElseThrow());

        BadRequestException streamed = assertThrows(BadRequestException.class, () -> {
            try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params)) {
                s.stream().forEach(c -> {});
            }
        });
        assertEquals("context_length_exceeded", streamed.code().orElseThrow());

        // A prompt that fits but leaves no room for max_tokens is refused the same way.
        String fits = "t9 ".repeat(server.engine().maxModelLength() - 20).trim();
        BadRequestException room = assertThrows(BadRequestException.class, () -> client.completions().create(
                CompletionCreateParams.builder().model(TestServer.MODEL).prompt(fits).maxTokens(100).build()));
        assertEquals("context_length_exceeded", room.code().orElseThrow());
    }

    @Test
    void unsupportedFieldsAreRefusedButTheirDefaultsAccepted() {
        // what some clients send explicitly: the defaults, which ask for nothing Gatehouse lacks
        ChatCompletion c = client.chat().completions().create(chat(2)
                .responseFormat(ResponseFormatText.builder().build())
                .logitBias(ChatCompletionCreateParams.LogitBias.builder().build())
                .tools(List.of()).build());
        assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, c.choices().get(0).finishReason());

        // json_object is served by constrained decoding now (ConstrainedGenerationTest); logit_bias is not
        ChatCompletion json = client.chat().completions()
                .create(chat(2).responseFormat(ResponseFormatJsonObject.builder().build()).build());
        assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, json.choices().get(0).finishReason());
        BadRequestException bias = assertThrows(BadRequestException.class, () -> client.chat().completions()
                .create(chat(2).logitBias(ChatCompletionCreateParams.LogitBias.builder()
                        .putAdditionalProperty("20", JsonValue.from(100)).build()).build()));
        assertEquals("logit_bias", bias.param().orElseThrow());
    }

    @Test
    void invalidParameterNamesIt() {
        BadRequestException e = assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(chat(3).temperature(-1.0).build()));
        assertEquals(400, e.statusCode());
        assertEquals("temperature", e.param().orElseThrow());
        assertNotEquals("", e.getMessage());
    }
}
