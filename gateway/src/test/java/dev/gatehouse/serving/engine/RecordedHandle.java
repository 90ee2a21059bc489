package dev.gatehouse.serving.engine;

import dev.gatehouse.serving.sample.SampledToken;
import java.util.List;

/** A request handle that replays a recorded answer, token text by token text, as the engine would send it. */
public final class RecordedHandle {
    private RecordedHandle() {}

    public static RequestHandle of(List<String> tokens, FinishReason reason) {
        RequestHandle handle = new RequestHandle(1, () -> {}, 1 << 10);
        for (String text : tokens) {
            handle.emit(new EngineEvent.Token(text, new SampledToken(0, Float.NaN, List.of())));
        }
        handle.emit(new EngineEvent.Finished(reason, new EngineEvent.Usage(3, tokens.size()), new RequestTimings(0, 0, 0, 0)));
        return handle;
    }
}
