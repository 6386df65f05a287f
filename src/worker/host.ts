/**
 * The worker's implementation of EngineApi, the page's one way in (protocol.ts). It holds the loaded
 * dataset and hands each job to its module: the dataset and its views (datasetViews.ts), the training
 * run and its events (runHost.ts), the run kept in IndexedDB (savedRun.ts), bundles (bundleHost.ts) and
 * the Try-it view (tryIt.ts). What training means lives in src/train, shared with the command line.
 */
import type { Dataset } from '../data/dataset';
import { checkpointFromFiles } from '../train/checkpoint';
import type { TrainConfig } from '../train/config';
import { configText as configToText } from '../train/configFile';
import { configOf, loadSettings, presetSettings } from '../train/settings';
import { initBackend } from './backend';
import { exportRunBopCsv, exportRunBundle, importRunBundle } from './bundleHost';
import { imageView, ObjectGeometries, openFiles, openUrl, summaryOf, type LoadedDataset } from './datasetViews';
import type {
  BackendInfo, ConfigLoad, DatasetSummary, DroppedBlob, EngineApi, EngineUiEvent, ImageView, ImportResult, ObjectGeometry, PosesJson, PresetName,
  ProgressCallback, SavedRunInfo, TrainSettings, TryFrame, TryItStatus, TryModelSource, TryResult,
} from './protocol';
import { RunHost, type RunStart } from './runHost';
import { runStore } from './runStore';
import { isRunDataset, keepDropped, runDatasetSource, savedRunInfo } from './savedRun';
import { TryIt } from './tryIt';
import { startLocaliserWorker } from './localiserWorker';
import type { LocaliserSteps } from '../train/localiser';

export class EngineHost implements EngineApi {
  private backend?: BackendInfo;
  private loaded?: LoadedDataset;
  private readonly listeners: ((e: EngineUiEvent) => void)[] = [];
  private readonly geometry = new ObjectGeometries();
  private readonly run = new RunHost((e) => this.emit(e), () => this.loaded, (config) => this.placeLocaliser(config));
  private readonly tryIt = new TryIt(() => this.run.engine, () => this.loaded?.ds);

  async init(): Promise<BackendInfo> {
    this.backend ??= await initBackend();
    return this.backend;
  }

  /**
   * On a CPU backend, with a second core, the localiser trains in a nested worker beside the keypoint
   * network (localiserWorker.ts); on WebGPU both share the GPU.
   */
  private async placeLocaliser(config: TrainConfig): Promise<{ steps?: LocaliserSteps; notice?: string }> {
    const b = await this.init();
    if (b.webgpu || (b.backend !== 'wasm' && b.backend !== 'cpu')) return {};
    if ((self.navigator?.hardwareConcurrency ?? 1) < 2) return {};
    try {
      return { steps: await startLocaliserWorker(b.backend, config.localiser, config.optim) };
    } catch (e) {
      return { notice: `The localiser trains in the training worker, one step after the other's, more slowly: its own worker did not start (${e instanceof Error ? e.message : String(e)}).` };
    }
  }

  subscribe(listener: (e: EngineUiEvent) => void): void {
    this.listeners.push(listener);
  }

  presets(): Record<PresetName, TrainSettings> {
    // The page shows progress as it goes: presets that only evaluate and save at the end get a cadence.
    return presetSettings(50);
  }

  async loadUrl(url: string, onProgress: ProgressCallback): Promise<DatasetSummary> {
    await this.run.stop();
    this.setDataset(await openUrl(url, onProgress));
    return summaryOf(this.loaded!);
  }

  async loadFiles(label: string, files: DroppedBlob[], onProgress: ProgressCallback): Promise<DatasetSummary> {
    await this.run.stop();
    this.setDataset(await openFiles(files, onProgress));
    // A dropped zip is labelled by its own name; the page's label says what the person dropped.
    const summary = summaryOf(this.loaded!, label);
    if (summary.usable) await keepDropped(this.requireDataset().source.label, files);
    return summary;
  }

  image(index: number): Promise<ImageView> {
    return imageView(this.requireDataset(), index);
  }

  objectGeometry(objId: number): ObjectGeometry | undefined {
    return this.loaded && this.geometry.get(this.loaded.ds, objId);
  }

  async start(settings: TrainSettings, config?: TrainConfig): Promise<void> {
    await this.begin(settings, { loaded: config });
  }

  resolveConfig(text: string, fileName: string, preset: PresetName): ConfigLoad {
    return loadSettings(text, fileName, preset);
  }

  configText(settings: TrainSettings, config?: TrainConfig): string {
    return configToText(configOf(settings, config));
  }

  pause(): void {
    this.run.pause();
  }

  resume(): void {
    this.run.resume();
  }

  stop(): void {
    this.run.requestStop();
  }

  savedRun(): Promise<SavedRunInfo | undefined> {
    return savedRunInfo();
  }

  async resumeSaved(onProgress: ProgressCallback): Promise<DatasetSummary> {
    const saved = await runStore.loadRun();
    if (!saved) throw new Error('no saved run to resume');
    if (!isRunDataset(saved, this.loaded)) {
      const where = await runDatasetSource(saved);
      await this.run.stop();
      this.setDataset('url' in where ? await openUrl(where.url, onProgress) : await openFiles(where.files, onProgress));
    }
    const checkpoint = checkpointFromFiles(new Map(Object.entries(saved.checkpoint)));
    this.run.setHistory(saved.history, saved.evals);
    this.emit({ type: 'history', points: saved.history.slice(), evals: saved.evals.slice() });
    await this.begin({ ...saved.settings, objId: saved.objId }, { resume: checkpoint });
    return summaryOf(this.loaded!);
  }

  async discardSaved(): Promise<void> {
    await runStore.clearRun();
  }

  exportBundle(): Promise<Uint8Array> {
    return exportRunBundle(this.run);
  }

  exportBopCsv(): Promise<string> {
    return exportRunBopCsv(this.run);
  }

  importBundle(bytes: Uint8Array, mode: 'evaluate' | 'continue'): Promise<ImportResult> {
    return importRunBundle(bytes, mode, {
      ds: this.requireDataset(), run: this.run, emit: (e) => this.emit(e), useKeypoints: (id, kp) => this.geometry.useKeypoints(id, kp),
    });
  }

  tryItStatus(source: TryModelSource): TryItStatus {
    return this.tryIt.status(source);
  }

  tryItImportBundle(bytes: Uint8Array): Promise<TryItStatus> {
    return this.tryIt.importBundle(bytes);
  }

  predictFrames(frames: TryFrame[], source: TryModelSource): Promise<TryResult> {
    return this.tryIt.predictFrames(frames, source);
  }

  posesJson(doc: PosesJson): string {
    return this.tryIt.posesJson(doc);
  }

  // ---- internals ----

  private setDataset(l: LoadedDataset): void {
    this.run.dispose();
    this.loaded = l;
    this.geometry.clear();
  }

  private requireDataset(): Dataset {
    if (!this.loaded) throw new Error('no dataset is loaded');
    return this.loaded.ds;
  }

  private async begin(s: TrainSettings, opts: RunStart): Promise<void> {
    const data = await this.run.begin(this.requireDataset(), s, opts);
    this.geometry.clear();
    this.geometry.useKeypoints(data.object.id, data.object.keypointsMm);
  }

  private emit(e: EngineUiEvent): void {
    for (const l of this.listeners) l(e);
  }
}
