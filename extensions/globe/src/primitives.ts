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

/** Points as one primitive: `lonLat` pairs in degrees, `rgba` 0..255 per point. */
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
