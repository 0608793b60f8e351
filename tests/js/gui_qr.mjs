// The web GUI's QR encoder (services/gui-bridge/gui/qr.js) against the npm `qrcode` package: for texts of
// several lengths (versions 1 to 10) every one of the eight masks gives the same matrix, module for module,
// and the encoder's own mask choice is one of them. Run by tests/functional/test_gui.py; prints "ok".
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';
import path from 'node:path';

const require = createRequire(import.meta.url);
const QRCode = require('qrcode');
const here = path.dirname(fileURLToPath(import.meta.url));
const {encode} = await import(path.join(here, '../../services/gui-bridge/gui/qr.js'));

const texts = ['', 'a', 'bitcoin:bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
  'bitcoin:BCRT1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KYGT080?amount=0.001&label=caf%C3%A9',
  'x'.repeat(60), 'é€ 𝄞 '.repeat(10), 'y'.repeat(150), 'z'.repeat(213)];
let checked = 0;
for (const text of texts) {
  const reference = (mask) => QRCode.create([{data: Buffer.from(text, 'utf8'), mode: 'byte'}],
    {errorCorrectionLevel: 'M', maskPattern: mask});
  for (let mask = 0; mask < 8; mask++) {
    const ours = encode(text, {mask});
    const theirs = reference(mask);
    if (ours.size !== theirs.modules.size) throw new Error(`"${text}" mask ${mask}: size ${ours.size} != ${theirs.modules.size}`);
    for (let y = 0; y < ours.size; y++) {
      for (let x = 0; x < ours.size; x++) {
        if (ours.modules[y][x] !== !!theirs.modules.get(y, x)) {
          throw new Error(`"${text}" (version ${ours.version}) mask ${mask}: module (${x}, ${y}) differs`);
        }
      }
    }
    checked++;
  }
  const chosen = encode(text);
  const theirs = QRCode.create([{data: Buffer.from(text, 'utf8'), mode: 'byte'}], {errorCorrectionLevel: 'M'});
  if (chosen.mask !== theirs.maskPattern) throw new Error(`"${text}": mask ${chosen.mask}, qrcode chose ${theirs.maskPattern}`);
}
let tooLong = false;
try {
  encode('w'.repeat(214));
} catch (e) {
  tooLong = true;
}
if (!tooLong) throw new Error('a text past version 10 was accepted');
console.log(`ok ${checked} matrices`);
