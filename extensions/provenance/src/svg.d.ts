// SVG files are imported as their source text (webpack's asset/source in the labextension build).
declare module '*.svg' {
  const svgstr: string;
  export default svgstr;
}
