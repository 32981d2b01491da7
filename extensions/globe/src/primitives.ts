/**
 * Cesium primitives for many points and for meshes, built from typed arrays in
 * one go: one vertex buffer with per-vertex colours and one draw call, instead
 * of one JavaScript object per point (PointPrimitiveCollection). Cesium's
 * Primitive pipeline still projects them for the 2D and Columbus views and splits
 * them at the antimeridian.
 */
import type * as C from 'cesium';
import type { Cesium } from './cesium-loader';

const VERTEX = (pointSize: number): string => `
in vec3 position3DHigh;
in vec3 position3DLow;
in vec4 rgba;
in float batchId;
out vec4 v_rgba;
void main() {
  vec4 p = czm_computePosition();
  v_rgba = rgba;
  gl_Position = czm_modelViewProjectionRelativeToEye * p;
  gl_PointSize = ${pointSize.toFixed(1)} * czm_pixelRatio;
}
`;

const FRAGMENT = (alpha: number, round: boolean): string => `
in vec4 v_rgba;
void main() {
  ${round ? 'if (length(gl_PointCoord - vec2(0.5)) > 0.5) { discard; }' : ''}
  if (v_rgba.a == 0.0) { discard; }
  out_FragColor = vec4(v_rgba.rgb, v_rgba.a * ${alpha.toFixed(3)});
}
`;

/** An appearance that draws the per-vertex `rgba` colours at an opacity. */
export function vertexColorAppearance(
  Cs: Cesium,
  options: { alpha: number; pointSize?: number }
): C.Appearance {
  const points = options.pointSize !== undefined;
  return new Cs.Appearance({
    translucent: options.alpha < 1,
    closed: false,
    vertexShaderSource: VERTEX(options.pointSize ?? 1),
    fragmentShaderSource: FRAGMENT(options.alpha, points),
    renderState: {
      depthTest: { enabled: true },
      depthMask: options.alpha >= 1,
      blending: Cs.BlendingState.ALPHA_BLEND,
      cull: { enabled: false }
    }
  });
}

function toCartesian(
  Cs: Cesium,
  lonLat: ArrayLike<number>,
  count: number,
  height = 0
): Float64Array {
  const positions = new Float64Array(count * 3);
  const scratch = new Cs.Cartesian3();
  for (let i = 0; i < count; i++) {
    Cs.Cartesian3.fromDegrees(
      lonLat[2 * i],
      lonLat[2 * i + 1],
      height,
      undefined,
      scratch
    );
    positions[3 * i] = scratch.x;
    positions[3 * i + 1] = scratch.y;
    positions[3 * i + 2] = scratch.z;
  }
  return positions;
}

function geometry(
  Cs: Cesium,
  positions: Float64Array,
  rgba: Uint8Array | Uint8ClampedArray,
  primitiveType: C.PrimitiveType,
  indices?: Uint32Array
): C.Geometry {
  return new Cs.Geometry({
    // Cesium's GeometryAttributes type lists only its own names; any name is
    // allowed and becomes a shader attribute.
    attributes: {
      position: new Cs.GeometryAttribute({
        componentDatatype: Cs.ComponentDatatype.DOUBLE,
        componentsPerAttribute: 3,
        values: positions
      }),
      rgba: new Cs.GeometryAttribute({
        componentDatatype: Cs.ComponentDatatype.UNSIGNED_BYTE,
        componentsPerAttribute: 4,
        normalize: true,
        values: new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.byteLength)
      })
    } as unknown as C.GeometryAttributes,
    indices,
    primitiveType,
    boundingSphere: Cs.BoundingSphere.fromVertices(Array.from(positions))
  });
}

function primitive(
  Cs: Cesium,
  geometryValue: C.Geometry,
  appearance: C.Appearance
): C.Primitive {
  return new Cs.Primitive({
    geometryInstances: new Cs.GeometryInstance({ geometry: geometryValue }),
    appearance,
    // Geometry made here, not by a worker: Cesium requires synchronous creation.
    asynchronous: false,
    allowPicking: false,
    compressVertices: false,
    vertexCacheOptimize: false,
    interleave: false,
    releaseGeometryInstances: true
  });
}

/** Points as one Cesium `Primitive`: `lonLat` pairs in degrees, `rgba` 0..255 per point. */
export function pointsPrimitive(
  Cs: Cesium,
  lonLat: ArrayLike<number>,
  rgba: Uint8Array | Uint8ClampedArray,
  count: number,
  pointSize: number
): C.Primitive {
  const positions = toCartesian(Cs, lonLat, count);
  return primitive(
    Cs,
    geometry(Cs, positions, rgba, Cs.PrimitiveType.POINTS),
    vertexColorAppearance(Cs, { alpha: 1, pointSize })
  );
}

/**
 * The parts of Cesium's renderer that `PointCloud` uses: exported by Cesium's
 * build like its public classes, but absent from its type declarations.
 */
interface IRenderer {
  Buffer: {
    createVertexBuffer(options: {
      context: unknown;
      typedArray: ArrayBufferView;
      usage: unknown;
    }): unknown;
  };
  BufferUsage: { STATIC_DRAW: unknown };
  VertexArray: new (options: {
    context: unknown;
    attributes: {
      index: number;
      vertexBuffer: unknown;
      componentsPerAttribute: number;
      componentDatatype: unknown;
      normalize?: boolean;
    }[];
  }) => { destroy(): void };
  ShaderProgram: {
    fromCache(options: {
      context: unknown;
      vertexShaderSource: string;
      fragmentShaderSource: string;
      attributeLocations: Record<string, number>;
    }): { destroy(): void };
  };
  RenderState: { fromCache(options: object): unknown };
  DrawCommand: new (options: object) => unknown;
  Pass: { OPAQUE: number; TRANSLUCENT: number };
}

interface IFrameState {
  context: unknown;
  mode: C.SceneMode;
  commandList: unknown[];
  passes: { render: boolean };
}

const CLOUD_VERTEX = `
in vec3 position;
in vec4 rgba;
uniform float u_pointSize;
out vec4 v_rgba;
void main() {
  v_rgba = rgba;
  gl_Position = czm_modelViewProjection * vec4(position, 1.0);
  gl_PointSize = u_pointSize * czm_pixelRatio;
}
`;

const CLOUD_FRAGMENT = `
in vec4 v_rgba;
uniform float u_alpha;
void main() {
  if (length(gl_PointCoord - vec2(0.5)) > 0.5 || v_rgba.a == 0.0) { discard; }
  out_FragColor = vec4(v_rgba.rgb, v_rgba.a * u_alpha);
}
`;

/**
 * Many points as a Cesium primitive of our own, for speed: one vertex buffer
 * of float32 positions relative to the points' centre (12 bytes a point) and
 * one of RGBA bytes, drawn in one call with a small shader. Cesium's
 * `Primitive` needs 56 bytes a point (positions split in high and low parts, in
 * 3D and in 2D, and a batch id) and projects every point to 2D beforehand; on
 * software WebGL uploading those buffers is a large part of the first frame.
 * In the 2D and Columbus views, drawn rarely, the points are handed to a
 * Cesium `Primitive` made on first use (`pointsPrimitive`).
 */
export class PointCloud {
  constructor(
    Cs: Cesium,
    lonLat: ArrayLike<number>,
    rgba: Uint8Array | Uint8ClampedArray,
    count: number,
    pointSize: number
  ) {
    this._Cs = Cs;
    this._lonLat = lonLat;
    this._rgba = rgba;
    this._count = count;
    this._pointSize = pointSize;
    const ecef = toCartesian(Cs, lonLat, count);
    let cx = 0;
    let cy = 0;
    let cz = 0;
    for (let i = 0; i < count; i++) {
      cx += ecef[3 * i];
      cy += ecef[3 * i + 1];
      cz += ecef[3 * i + 2];
    }
    const center = new Cs.Cartesian3(cx / count, cy / count, cz / count);
    const positions = new Float32Array(count * 3);
    let radius2 = 0;
    for (let i = 0; i < count; i++) {
      const x = ecef[3 * i] - center.x;
      const y = ecef[3 * i + 1] - center.y;
      const z = ecef[3 * i + 2] - center.z;
      positions[3 * i] = x;
      positions[3 * i + 1] = y;
      positions[3 * i + 2] = z;
      radius2 = Math.max(radius2, x * x + y * y + z * z);
    }
    this._positions = positions;
    this._modelMatrix = Cs.Matrix4.fromTranslation(center);
    this._boundingSphere = new Cs.BoundingSphere(
      center,
      Math.sqrt(radius2) + 1
    );
  }

  /** Drawn or not (as Cesium's primitives). */
  show = true;

  /** Opacity, 0..1. */
  get alpha(): number {
    return this._alpha;
  }
  set alpha(value: number) {
    if (value !== this._alpha) {
      this._alpha = value;
      this._command = null;
      if (this._fallback) {
        this._fallback.appearance = vertexColorAppearance(this._Cs, {
          alpha: value,
          pointSize: this._pointSize
        });
      }
    }
  }

  /** Called by Cesium's scene every frame. */
  update(frameState: IFrameState): void {
    if (!this.show || this._count === 0) {
      return;
    }
    const Cs = this._Cs;
    if (frameState.mode !== Cs.SceneMode.SCENE3D) {
      if (!this._fallback) {
        this._fallback = pointsPrimitive(
          Cs,
          this._lonLat,
          this._rgba,
          this._count,
          this._pointSize
        );
        this._fallback.appearance = vertexColorAppearance(Cs, {
          alpha: this._alpha,
          pointSize: this._pointSize
        });
      }
      (this._fallback as unknown as { update(f: IFrameState): void }).update(
        frameState
      );
      return;
    }
    if (!frameState.passes.render) {
      return;
    }
    const R = Cs as unknown as IRenderer;
    const context = frameState.context;
    if (!this._vertexArray) {
      const buffer = (typedArray: ArrayBufferView) =>
        R.Buffer.createVertexBuffer({
          context,
          typedArray,
          usage: R.BufferUsage.STATIC_DRAW
        });
      this._vertexArray = new R.VertexArray({
        context,
        attributes: [
          {
            index: 0,
            vertexBuffer: buffer(this._positions),
            componentsPerAttribute: 3,
            componentDatatype: Cs.ComponentDatatype.FLOAT
          },
          {
            index: 1,
            vertexBuffer: buffer(
              new Uint8Array(
                this._rgba.buffer,
                this._rgba.byteOffset,
                this._rgba.byteLength
              )
            ),
            componentsPerAttribute: 4,
            componentDatatype: Cs.ComponentDatatype.UNSIGNED_BYTE,
            normalize: true
          }
        ]
      });
      this._program = R.ShaderProgram.fromCache({
        context,
        vertexShaderSource: CLOUD_VERTEX,
        fragmentShaderSource: CLOUD_FRAGMENT,
        attributeLocations: { position: 0, rgba: 1 }
      });
    }
    if (!this._command) {
      const opaque = this._alpha >= 1;
      this._command = new R.DrawCommand({
        boundingVolume: this._boundingSphere,
        modelMatrix: this._modelMatrix,
        primitiveType: Cs.PrimitiveType.POINTS,
        vertexArray: this._vertexArray,
        count: this._count,
        shaderProgram: this._program,
        uniformMap: {
          u_pointSize: () => this._pointSize,
          u_alpha: () => this._alpha
        },
        renderState: R.RenderState.fromCache({
          depthTest: { enabled: true },
          depthMask: opaque,
          blending: Cs.BlendingState.ALPHA_BLEND
        }),
        pass: opaque ? R.Pass.OPAQUE : R.Pass.TRANSLUCENT,
        owner: this
      });
    }
    frameState.commandList.push(this._command);
  }

  isDestroyed(): boolean {
    return this._destroyed;
  }

  destroy(): void {
    this._vertexArray?.destroy();
    this._program?.destroy();
    this._fallback?.destroy();
    this._vertexArray = null;
    this._program = null;
    this._fallback = null;
    this._destroyed = true;
  }

  private _Cs: Cesium;
  private _lonLat: ArrayLike<number>;
  private _rgba: Uint8Array | Uint8ClampedArray;
  private _count: number;
  private _pointSize: number;
  private _positions: Float32Array;
  private _modelMatrix: C.Matrix4;
  private _boundingSphere: C.BoundingSphere;
  private _alpha = 1;
  private _vertexArray: { destroy(): void } | null = null;
  private _program: { destroy(): void } | null = null;
  private _command: unknown = null;
  private _fallback: C.Primitive | null = null;
  private _destroyed = false;
}

/** Quads (four lon/lat corners each) with one colour per quad, as triangles. */
export function meshPrimitive(
  Cs: Cesium,
  corners: Float64Array,
  cellRgba: Uint8Array,
  count: number
): C.Primitive {
  const positions = toCartesian(Cs, corners, count * 4);
  const rgba = new Uint8Array(count * 16);
  const indices = new Uint32Array(count * 6);
  for (let k = 0; k < count; k++) {
    for (let q = 0; q < 4; q++) {
      rgba.set(cellRgba.subarray(4 * k, 4 * k + 4), 16 * k + 4 * q);
    }
    indices.set(
      [4 * k, 4 * k + 1, 4 * k + 2, 4 * k, 4 * k + 2, 4 * k + 3],
      6 * k
    );
  }
  return primitive(
    Cs,
    geometry(Cs, positions, rgba, Cs.PrimitiveType.TRIANGLES, indices),
    vertexColorAppearance(Cs, { alpha: 1 })
  );
}
