package dev.gatehouse.serving.text;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.Year;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Templates in the shape of real models' chat_template fields, rendered the way transformers'
 * apply_chat_template(messages, tokenize=False, add_generation_prompt=...) renders them. Expected
 * strings are written out by hand from Jinja2's rules (trim_blocks, lstrip_blocks, filters bind
 * tighter than +).
 */
class ChatTemplateTest {

    private static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    private static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    private static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }

    private static ChatMessage tool(String content) {
        return new ChatMessage("tool", content);
    }

    private static ChatTemplate resource(String name, String bos, String eos) throws IOException {
        try (InputStream in = ChatTemplateTest.class.getResourceAsStream("/text/" + name)) {
            String template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return ChatTemplate.of("test", new TokenizerConfig(template, bos, eos, null, null, null));
        }
    }

    private static ChatTemplate inline(String template) {
        return ChatTemplate.of("test", new TokenizerConfig(template, "<s>", "</s>", null, null, null));
    }

    private static final List<ChatMessage> SYSTEM_USER = List.of(system("Be brief."), user("Hi"));

    @Test
    void llama3() throws IOException {
        ChatTemplate t = resource("llama3.jinja", "<|begin_of_text|>", "<|eot_id|>");
        String prompt = t.render(List.of(system("You are helpful."), user("  What is 2+2? \n")), true);
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", prompt);
        assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
                t.render(List.of(user("Hi")), false));
    }

    /** Llama 3.2: today's date through strftime_now, system message lifted out, tool output as JSON. */
    @Test
    void llama32() throws IOException {
        ChatTemplate t = resource("llama3.2.jinja", "<|begin_of_text|>", "<|eot_id|>");
        String today = DateTimeFormatter.ofPattern("dd MMM yyyy", Locale.ENGLISH).format(LocalDate.now());
        String header = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                + "Cutting Knowledge Date: December 2023\nToday Date: " + today + "\n\n";
        assertEquals(header + "Be brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", t.render(SYSTEM_USER, true));
        // A string is iterable in Jinja2, so transformers writes tool output through tojson, quoted.
        assertEquals(header + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWeather?<|eot_id|>"
                + "<|start_header_id|>ipython<|end_header_id|>\n\n\"sunny\"<|eot_id|>",
                t.render(List.of(user("Weather?"), tool("sunny")), false));
    }

    @Test
    void qwen25AddsItsDefaultSystemMessage() throws IOException {
        ChatTemplate t = resource("qwen2.5.jinja", null, "<|im_end|>");
        assertEquals("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\nHello<|im_end|>\n"
                + "<|im_start|>assistant\n", t.render(List.of(user("Hello")), true));
    }

    @Test
    void qwen25MultiTurnWithSystem() throws IOException {
        ChatTemplate t = resource("qwen2.5.jinja", null, "<|im_end|>");
        String prompt = t.render(List.of(system("Be brief."), user("Hi"), assistant("Hello!"), user("Bye")), false);
        assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n"
                + "<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\nHello!<|im_end|>\n"
                + "<|im_start|>user\nBye<|im_end|>\n", prompt);
    }

    @Test
    void qwen25ToolResults() throws IOException {
        ChatTemplate t = resource("qwen2.5.jinja", null, "<|im_end|>");
        String prompt = t.render(List.of(user("Weather?"), tool("{\"temp\": 20}"), tool("sunny")), true);
        assertEquals("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\nWeather?<|im_end|>\n"
                + "<|im_start|>user\n<tool_response>\n{\"temp\": 20}\n</tool_response>"
                + "\n<tool_response>\nsunny\n</tool_response><|im_end|>\n"
                + "<|im_start|>assistant\n", prompt);
    }

    @Test
    void smolLm2() throws IOException {
        ChatTemplate t = resource("smollm2.jinja", "<|im_start|>", "<|im_end|>");
        assertEquals("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                + "<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\n", t.render(List.of(user("Hi")), true));
        assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n",
                t.render(SYSTEM_USER, false));
    }

    @Test
    void mistralAlternatingTurns() throws IOException {
        ChatTemplate t = resource("mistral.jinja", "<s>", "</s>");
        assertEquals("<s>[INST] Hi [/INST]Hello</s>[INST] How? [/INST]",
                t.render(List.of(user("Hi"), assistant("Hello"), user("How?")), true));
    }

    @Test
    void raiseExceptionBecomesIllegalArgument() throws IOException {
        ChatTemplate mistral = resource("mistral.jinja", "<s>", "</s>");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> mistral.render(List.of(user("Hi"), user("Again")), true));
        assertEquals("Conversation roles must alternate user/assistant/user/assistant/...", e.getMessage());

        ChatTemplate gemma = resource("gemma.jinja", "<bos>", "<eos>");
        e = assertThrows(IllegalArgumentException.class, () -> gemma.render(SYSTEM_USER, true));
        assertEquals("System role not supported", e.getMessage());
    }

    @Test
    void gemmaTrimsOnlyTheContent() throws IOException {
        ChatTemplate t = resource("gemma.jinja", "<bos>", "<eos>");
        assertEquals("<bos><start_of_turn>user\nHi<end_of_turn>\n"
                + "<start_of_turn>model\nHello<end_of_turn>\n"
                + "<start_of_turn>model\n", t.render(List.of(user(" Hi "), assistant("Hello")), true));
    }

    @Test
    void pythonStringMethods() {
        ChatTemplate t = inline("{{ messages[0]['content'].strip() }}|{{ messages[1].content.upper() }}"
                + "|{{ messages[1].content.lower() }}|{{ '--a--'.strip('-') }}|{{ 'a, b,c'.split(',') | join('+') }}"
                + "|{{ ' x  y '.split() | length }}|{{ 'hello world'.title() }}"
                + "{% if messages[1].content.startswith('H') %}|starts{% endif %}"
                + "{% if messages[1].content.endswith(('x', 'i')) %}|ends{% endif %}"
                + "{% if not messages[1].content.startswith('x') %}|not{% endif %}"
                + "|{{ messages[1].content[-1] }}{{ messages[1].content[0] }}|{{ '\u00a0x\u3000' | trim }}");
        assertEquals("Be brief.|HI|hi|a|a+ b+c|2|Hello World|starts|ends|not|iH|x",
                t.render(List.of(system("  Be brief.\n"), user("Hi")), false));
    }

    @Test
    void namespaceLoopAndIndexing() {
        ChatTemplate t = inline("{% set ns = namespace(count=0, last='') %}"
                + "{% for m in messages %}{% set ns.count = ns.count + 1 %}"
                + "{% if loop.last %}{% set ns.last = m['role'] %}{% endif %}{% endfor %}"
                + "{{ ns.count }} {{ ns.last }} {{ messages[0]['role'] }} {{ messages[-1].role }}"
                + " {{ messages[1:] | length }} {{ messages | map(attribute='role') | join(',') }}");
        assertEquals("2 user system user 1 system,user", t.render(SYSTEM_USER, false));
    }

    /** Expected output from Python's Jinja2 3.1.6 (sandboxed, trim_blocks, lstrip_blocks) for the same template. */
    @Test
    void jinja2PrecedenceKeywordArgumentsStepSlicesLoopControlsAndLoopFilters() {
        ChatTemplate t = inline("{% set ns = namespace(n=messages|length - 1, s='a=b, c') %}{{ ns.n }} {{ ns.s }}"
                + "|{% if not undefined_x is defined %}undef{% endif %}"
                + "|{{ 'x' not in 'abc' }} {{ not 'a' in 'abc' }} {{ messages[0].role is not none }}"
                + "|{{ not messages[0].role == 'user' and not false }}"
                + "|{% for m in messages[::-1] %}{{ m.role }},{% endfor %}"
                + "|{{ 'abcdef'[1::2] }} {{ 'abcdef'[::-2] }} {{ [1,2,3,4][-1:0:-1] | join('') }}"
                + "|{{ 'not x' if not (1 == 2) else 'y' }}"
                + "|{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}"
                + "|{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.content }}{% if loop.last %}!{% endif %}{% endfor %}"
                + "|{%- for k, v in {'a': 1, 'b': 2, 'c': 3}.items() if v is not none and not v == 2 -%} {{ k }}{{ v }}{{ loop.length }} {%- endfor -%}"
                + "|{% for i in range(10) if i % 3 == 0 %}{{ i }}{% endfor %}");
        assertEquals("1 a=b, c|undef|True False True|True|user,system,|bdf fdb 432|not x|02|1:Hi!|a12c32|0369",
                t.render(SYSTEM_USER, false));
    }

    @Test
    void blocksOnTheirOwnLinesLeaveNoWhitespace() {
        ChatTemplate t = inline("""
                {% for m in messages %}
                    {% if loop.last %}
                last: {{ m.role }}
                    {% endif %}
                {% endfor %}
                """);
        assertEquals("last: user\n", t.render(SYSTEM_USER, false));
    }

    @Test
    void toJsonLikePython() {
        ChatTemplate t = inline("{{ {'name': 'get_weather', 'parameters': {'city': 'Paris', 'days': [1, 2], 'tags': []} } | tojson }}"
                + "\n{{ messages[0] | tojson }}\n{{ {'a': 1, 'b': [true, none]} | tojson(indent=2) }}");
        assertEquals("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": [1, 2], \"tags\": []}}\n"
                + "{\"role\": \"user\", \"content\": \"café \\\"ok\\\"\"}\n"
                + "{\n  \"a\": 1,\n  \"b\": [\n    true,\n    null\n  ]\n}",
                t.render(List.of(user("café \"ok\"")), false));
    }

    @Test
    void toolsAndDocumentsAreNone() {
        ChatTemplate t = inline("{% if tools is not none %}tools{% else %}no tools{% endif %}"
                + "{% if documents %} docs{% endif %}{% if add_generation_prompt %} gen{% endif %}");
        assertEquals("no tools gen", t.render(SYSTEM_USER, true));
    }

    @Test
    void strftimeNow() {
        ChatTemplate t = inline("{{ strftime_now('%Y') }}|{{ strftime_now('%d %b %Y') }}");
        String[] out = t.render(SYSTEM_USER, false).split("\\|");
        assertEquals(String.valueOf(Year.now().getValue()), out[0]);
        assertTrue(out[1].matches("\\d\\d [A-Z][a-z]{2} \\d{4}"), out[1]);
    }

    @Test
    void unknownFunctionIsAnError() {
        ChatTemplate t = inline("{{ no_such_function('x') }}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.render(SYSTEM_USER, true));
        assertTrue(e.getMessage().contains("no_such_function"), e.getMessage());
    }

    @Test
    void fallbackWithoutTemplate() {
        ChatTemplate t = ChatTemplate.of("test", TokenizerConfig.empty());
        assertEquals("System: Be brief.\nUser: Hi\nAssistant:", t.render(SYSTEM_USER, true));
        assertEquals("System: Be brief.\nUser: Hi\n", t.render(SYSTEM_USER, false));

        ChatTemplate withBos = ChatTemplate.of("test", new TokenizerConfig(null, "<s>", "</s>", null, true, null));
        assertEquals("<s>User: Hi\nAssistant:", withBos.render(List.of(user("Hi")), true));
    }
}
