package dev.gatehouse.serving.text;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a chat template may not do, whoever wrote it: read files, or build unbounded output or run
 * unbounded time. Each ends in an IllegalArgumentException naming the model's template (the
 * gateway answers it with a 400), and the JVM carries on.
 */
class ChatTemplateLimitsTest {

    private static final List<ChatMessage> HI = List.of(new ChatMessage("user", "Hi"));

    private static IllegalArgumentException failure(String template) {
        ChatTemplate t = ChatTemplate.of("evil-model", new TokenizerConfig(template, "<s>", "</s>", null, null, null));
        return assertThrows(IllegalArgumentException.class, () -> t.render(HI, true));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{% include 'META-INF/MANIFEST.MF' %}",
        "{% import 'META-INF/MANIFEST.MF' as m %}{{ m }}",
        "{% from 'META-INF/MANIFEST.MF' import x %}{{ x }}",
        "{% extends 'META-INF/MANIFEST.MF' %}",
        "{% include '/etc/passwd' %}",
    })
    void readsNoFile(String template) {
        IllegalArgumentException e = failure(template);
        assertTrue(e.getMessage().contains("cannot read files"), e.getMessage());
        assertFalse(e.getMessage().contains("Manifest-Version") || e.getMessage().contains("root:"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        // a string doubled forty times
        "{% set s = 'xy' %}{% for i in range(40) %}{% set s = s + s %}{% endfor %}{{ s | length }}",
        // a list doubled forty times
        "{% set l = [1] %}{% for i in range(40) %}{% set l = l + l %}{% endfor %}{{ l | length }}",
    })
    void outputAndValuesAreBounded(String template) {
        Runtime runtime = Runtime.getRuntime();
        IllegalArgumentException e = failure(template);
        assertTrue(e.getMessage().startsWith("Rendering this conversation with the chat template of model 'evil-model' built more than"),
                e.getMessage());
        assertTrue(runtime.totalMemory() - runtime.freeMemory() < runtime.maxMemory(), "the JVM lives on");
    }

    @Test
    void nestedLoopsBuildNoGigabyte() {
        Runtime runtime = Runtime.getRuntime();
        IllegalArgumentException e = failure( // ten gigabytes of output, 10 KiB a step
                "{% set s = 'xxxxxxxxxx' %}{% for i in range(10) %}{% set s = s + s %}{% endfor %}"
                        + "{% for a in range(1000) %}{% for b in range(1000) %}{{ s }}{% endfor %}{% endfor %}");
        // jinjava checks a loop's output size as it grows or when the loop ends, so on a slow machine
        // the time bound can stop it first: either way the output is never built.
        assertTrue(e.getMessage().matches("Rendering this conversation with the chat template of model 'evil-model' "
                + "(built more than|took longer than) .*; shorten the conversation\\."), e.getMessage());
        assertTrue(runtime.totalMemory() - runtime.freeMemory() < runtime.maxMemory(), "the JVM lives on");
    }

    @Test
    void renderTimeIsBounded() {
        long start = System.nanoTime();
        IllegalArgumentException e = failure( // a billion steps that write nothing
                "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}{% set x = 1 %}"
                        + "{% endfor %}{% endfor %}{% endfor %}");
        assertEquals("Rendering this conversation with the chat template of model 'evil-model' used more than 2 s of"
                + " CPU time; shorten the conversation.", e.getMessage());
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        assertTrue(seconds < 120, "stopped after " + seconds + " s"); // 2 s of CPU, however loaded the machine
    }

    @Test
    void aLongConversationStillRenders() {
        String template = "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}";
        List<ChatMessage> messages = IntStream.range(0, 20_000)
                .mapToObj(i -> new ChatMessage(i % 2 == 0 ? "user" : "assistant", "message " + i + " {{ x }}"))
                .toList();
        ChatTemplate t = ChatTemplate.of("m", new TokenizerConfig(template, null, null, null, null, null));
        String out = t.render(messages, false);
        assertTrue(out.endsWith("<assistant>message 19999 {{ x }}"), out.substring(out.length() - 40));
    }
}
