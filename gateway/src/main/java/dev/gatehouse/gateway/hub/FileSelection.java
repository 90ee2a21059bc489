package dev.gatehouse.gateway.hub;

import java.util.ArrayList;
import java.util.List;

/**
 * Which repository files a pull downloads: by default only what serving reads (so a repository that also
 * carries .bin, .gguf or onnx/ copies of the weights costs one download, not four); {@code --include}
 * adds to that, {@code --exclude} removes from it.
 */
public final class FileSelection {
    public static final List<String> DEFAULT = List.of(
            "config.json", "generation_config.json",
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
            "*.safetensors", "model.safetensors.index.json",
            "modules.json", "sentence_bert_config.json", "1_Pooling/config.json");

    private final List<Glob> include = new ArrayList<>();
    private final List<Glob> exclude = new ArrayList<>();

    public FileSelection(List<String> include, List<String> exclude) {
        DEFAULT.forEach(p -> this.include.add(new Glob(p)));
        include.forEach(p -> this.include.add(new Glob(p)));
        exclude.forEach(p -> this.exclude.add(new Glob(p)));
    }

    public boolean selects(String path) {
        return include.stream().anyMatch(g -> g.matches(path)) && exclude.stream().noneMatch(g -> g.matches(path));
    }

    public List<HubFile> select(List<HubFile> files) {
        return files.stream().filter(f -> selects(f.path())).toList();
    }
}
