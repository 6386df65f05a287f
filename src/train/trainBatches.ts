/**
 * The engine's training batches: the data order (a seeded shuffle of the training split per epoch;
 * sample index c = step x B + j names the augmentation), the B crops of a step with their keypoint
 * targets, and the whole-image views the localiser trains on beside them.
 */
import { epochOrder, keypointTargets, stackImages, stackK } from './batch';
import { heatmapSide, type TrainConfig } from './config';
import type { TrainingData, TrainingSample } from './trainingData';
import type { ViewSample } from './localiser';
import type { StepBatch } from './trainStep';

export interface TrainBatch extends StepBatch {
  /** The localiser's views: the first localiser.batchSize samples' whole images. */
  views: ViewSample[];
}

/**
 * Where the engine reads its batches: TrainBatches on the engine's own thread, or a host's thread running one
 * (EngineOptions.batches). load(step) is the same bytes wherever it runs: a batch is a function of the step.
 */
export interface BatchSource {
  load(step: number): Promise<TrainBatch>;
  /** Ends what the source runs on (a thread); the engine calls it when disposed. */
  dispose?(): void;
}

export class TrainBatches implements BatchSource {
  private perm: { epoch: number; order: number[] } | null = null;

  constructor(private readonly data: TrainingData, private readonly config: TrainConfig) {}

  /** The batch of step `step`: the same bytes whenever it is read. */
  async load(step: number): Promise<TrainBatch> {
    const B = this.config.optim.batchSize;
    const idx = Array.from({ length: B }, (_, j) => step * B + j);
    const items = idx.map((c) => this.itemAt(c));
    const [samples, views] = await Promise.all([
      Promise.all(idx.map((c, j) => this.data.train(items[j], c, this.config.seed))),
      Promise.all(idx.slice(0, this.config.localiser.batchSize).map((c, j) => this.data.trainView(items[j], c, this.config.seed))),
    ]);
    // Fewer training instances than localiser.batchSize: the views repeat the batch's.
    while (views.length < this.config.localiser.batchSize) views.push(views[views.length % idx.length]);
    return { ...this.stepBatch(samples), views };
  }

  /** Training item at sample index c: a seeded shuffle of the training split per epoch. */
  private itemAt(c: number): number {
    const N = this.data.trainCount;
    const epoch = Math.floor(c / N);
    if (!this.perm || this.perm.epoch !== epoch) {
      this.perm = { epoch, order: epochOrder(this.config.seed, epoch, N) };
    }
    return this.perm.order[c % N];
  }

  private stepBatch(samples: TrainingSample[]): StepBatch {
    const t = keypointTargets(samples, this.data.object.keypointsMm, heatmapSide(this.config.model), this.config.model.heatmapStride, this.config.loss.sigmaCells);
    return { image: stackImages(samples.map((s) => s.image), this.config.model.inputPx, 'training sample'), kCrop: stackK(samples), ...t };
  }
}
