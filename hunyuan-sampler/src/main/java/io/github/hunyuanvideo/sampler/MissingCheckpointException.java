package io.github.hunyuanvideo.sampler;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A model folder lacks files the sampler needs, or cannot read them. The message lists every problem, one per line,
 * each starting with the path and saying what was expected there.
 */
public final class MissingCheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient List<String> problems;

    public MissingCheckpointException(Path root, List<String> problems) {
        super("model folder " + root + " is incomplete (" + problems.size() + " problem"
                + (problems.size() == 1 ? "" : "s") + "):\n  " + String.join("\n  ", problems));
        this.problems = List.copyOf(problems);
    }

    /** One line per missing or unreadable path, starting with the path. */
    public List<String> problems() {
        return problems;
    }
}
