package dev.gatehouse.gateway.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;
import dev.gatehouse.gateway.config.CacheConfig;
import dev.gatehouse.gateway.config.SharedConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RedisAnswersTest {
    private static final List<ChatEvent> ANSWER = List.of(
            new ChatEvent.Delta(0, "Hi ✓", List.of(new ChatEvent.TokenLogprob("Hi", -0.25f,
                    List.of(new ChatEvent.TopLogprob("Hi", -0.25f), new ChatEvent.TopLogprob("Hello", -1.5f))))),
            new ChatEvent.ToolCallStart(0, 0, "call_1", "weather"),
            new ChatEvent.ToolCallDelta(0, 0, "{\"city\":"),
            new ChatEvent.ToolCallDelta(0, 0, "\"Paris\"}"),
            new ChatEvent.ToolCallEnd(0, 0),
            new ChatEvent.Finish(0, FinishReason.TOOL_CALLS),
            new ChatEvent.Usage(12, 7));

    @TempDir
    Path dir;

    private TestRedis server;
    private Redis redis;
    private RedisAnswers answers;

    @BeforeEach
    void start() throws Exception {
        server = TestRedis.start(dir);
        redis = Redis.connect(new SharedConfig(new SharedConfig.Single(server.url()), SharedConfig.OnRedisDown.LOCAL, SharedConfig.DEFAULT_TIMEOUT, "t:",
                SharedConfig.DEFAULT_LEASE),
                new SimpleMeterRegistry());
        answers = new RedisAnswers(redis, new CacheConfig(true, Duration.ofSeconds(1), 1 << 20, false));
    }

    @AfterEach
    void stop() throws Exception {
        redis.close();
        server.close();
    }

    @Test
    void everyKindOfEventComesBackAsItWasStoredUntilTheTtl() throws Exception {
        answers.put("m\nabc", ANSWER);
        assertEquals(ANSWER, answers.get("m\nabc"));
        assertNull(answers.get("m\nother"));
        Thread.sleep(1_200);
        assertNull(answers.get("m\nabc"), "gone after ttl-seconds");
    }

    @Test
    void forgettingAModelDropsOnlyItsAnswersWhateverItsNameHolds() {
        answers.put("qwen*[1]\na", ANSWER);
        answers.put("qwen*[1]\nb", ANSWER);
        answers.put("qwen-2\na", ANSWER);
        answers.forget("qwen*[1]");
        assertNull(answers.get("qwen*[1]\na"));
        assertNull(answers.get("qwen*[1]\nb"));
        assertEquals(ANSWER, answers.get("qwen-2\na"), "the name is matched literally, not as a pattern");
    }

    @Test
    void whileRedisIsDownEveryLookupMissesAndNothingFails() throws Exception {
        answers.put("m\nabc", ANSWER);
        server.kill();
        assertNull(answers.get("m\nabc"));
        answers.put("m\nabc", ANSWER);
        answers.forget("m");
    }
}
