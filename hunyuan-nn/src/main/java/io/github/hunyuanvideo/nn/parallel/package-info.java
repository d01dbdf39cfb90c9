/** Collectives among the processes (one per device) that render one video: {@link io.github.hunyuanvideo.nn.parallel.Communicator}. */
package io.github.hunyuanvideo.nn.parallel;
