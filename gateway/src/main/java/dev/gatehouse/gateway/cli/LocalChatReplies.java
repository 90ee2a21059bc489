package dev.gatehouse.gateway.cli;

import dev.gatehouse.serving.engine.Generator;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.text.ChatMessage;

import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** Answers from a model loaded in this process, through its own chat template. */
final class LocalChatReplies implements ChatReplies {
    private final LocalModel model;
    private final SamplingParams params;

    LocalChatReplies(LocalModel model, SamplingParams params) {
        this.model = model;
        this.params = params;
    }

    @Override
    public String reply(List<ChatMessage> history, Consumer<String> text, BooleanSupplier stopped) {
        int[] prompt = model.tokenizer().encode(model.chatTemplate().render(history, true), false);
        return new Generator(model).generate(prompt, params, (delta, token) -> {
            if (stopped.getAsBoolean()) {
                throw new Stopped(); // the generator frees its KV cache on the way out
            }
            text.accept(delta);
        }).text();
    }

    @Override
    public void close() {
        model.close();
    }
}
