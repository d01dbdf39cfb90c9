package io.github.hunyuanvideo.cli;

import io.github.hunyuanvideo.sampler.demo.DemoCheckpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** One demo model for every test class of the JVM: generated on first use, removed when the JVM exits. */
final class SharedDemo {
    private static Path model;

    private SharedDemo() {
    }

    /** The folder of the demo model (tests that change a demo folder work on a copy). */
    static synchronized Path path() {
        if (model == null) {
            try {
                Path root = Files.createTempDirectory("hunyuan-cli-test-demo-");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(root)));
                model = DemoCheckpoint.ensure(root.resolve("demo"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return model;
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // best effort at exit: the folder is in the temporary directory
        }
    }
}
